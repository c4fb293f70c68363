"""functrans.scipy.linalg: SciPy's linear algebra names, differentiable, on every backend.

``import functrans.scipy.linalg as fsl``. The functions take SciPy's names and arguments and
give SciPy's values, shapes and dtypes (float32 stays float32; integers become float64,
except, as in SciPy, booleans and integers of at most 16 bits, which become float32 in all but
``solve`` and ``det``), on plain arrays of every backend (results on the input's library and
device; a list or number next to an array goes on that array's library and device) and on
tracers inside every transform. Batches of matrices (leading axes) broadcast, as in SciPy 1.15+.

Conventions shared by all:

- Only the part of a matrix that SciPy reads is read: the chosen triangle for
  ``solve_triangular``, ``cholesky``, ``cho_factor``, ``cho_solve`` and for ``solve``/``inv``
  with ``assume_a`` 'sym', 'her' or 'pos'; the derivative with respect to the other entries
  is 0.
- ``overwrite_a``/``overwrite_b`` are accepted and have no effect (inputs are never
  written). ``check_finite`` is accepted but not checked (that would read the values on the
  host): infinities and nans propagate into the result instead of raising ValueError.
- Singular or non positive-definite matrices raise NumPy's ``LinAlgError`` where SciPy
  does (on torch an error that is also ``torch.linalg.LinAlgError``);
  ill-conditioned ones give no ``LinAlgWarning``.
- The triangular solves (``solve_triangular``, ``cho_solve``, ``solve`` with a triangular
  ``assume_a``) use the backend's triangular solver (SciPy, torch, CuPy; the general solver
  of the masked triangle elsewhere); a zero on the diagonal raises ``LinAlgError`` (on CuPy,
  whose solver does not check, it gives infinities or nans). ``lu_solve`` divides by a zero
  pivot, as SciPy's (LAPACK's getrs): infinities and nans, with a nan derivative in the
  factors.
"""

from __future__ import annotations

import math
import operator

from .. import dtypes as _dt
from .. import lax as _lax
from .. import numpy as fnp
from ..core import Tracer as _Tracer
from ..errors import ConcretizationError, TracerArrayConversionError
from ..lax_linalg import _larfg
from ..numpy._base import _dtype, _shape
from ..numpy._reshaping import _convs
from ..primitives.structural import iota as _iota
from ..numpy.linalg import _float

__all__ = ["solve_triangular", "cholesky", "cho_factor", "cho_solve", "solve", "inv", "det",
           "block_diag", "expm", "eigh", "eigvalsh", "svd", "svdvals", "qr", "toeplitz",
           "lu_factor", "lu_solve", "lu"]

_LA = fnp.linalg
_TRANS = {0: "N", "N": "N", "n": "N", 1: "T", "T": "T", "t": "T", 2: "C", "C": "C", "c": "C"}


def _square(a, name):
    s = _shape(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"{name}: expected square matrix (or a stack of them); got shape {s}")
    return a


# Booleans and integers of at most 16 bits: SciPy's LAPACK wrappers (inv, cholesky, cho_factor,
# solve_triangular, cho_solve) compute them in float32, wider integers in float64.
_SMALL = frozenset(("bool", "int8", "uint8", "int16", "uint16"))


def _lapack_float(x):
    """``x`` as an array of the floating dtype SciPy's LAPACK wrappers give it."""
    x = fnp.asarray(x)
    d = _dtype(x)
    if d.kind in "fc":
        return x
    return fnp.astype(x, _dt.float32 if d.name in _SMALL else _dt.float64)


def _matrix(a, name):
    return _square(_lapack_float(a), name)


def _eye_like(a):
    """Identity matrices of ``a``'s shape, dtype, library and device (no derivative)."""
    return fnp.triu(fnp.tril(fnp.ones_like(fnp.stop_gradient(a))))


def _h(a):
    """The conjugate transpose of the last two axes."""
    a = fnp.matrix_transpose(a)
    return fnp.conj(a) if _dtype(a).kind == "c" else a


def _triangle(a, lower, unit_diagonal=False):
    """The referenced triangle of ``a`` (its diagonal replaced by ones if ``unit_diagonal``)."""
    if not unit_diagonal:
        return fnp.tril(a) if lower else fnp.triu(a)
    strict = fnp.tril(a, k=-1) if lower else fnp.triu(a, k=1)
    return fnp.add(strict, _eye_like(a))


def _hermitian(a, lower, conj=True):
    """The symmetric (Hermitian if ``conj``) matrix that the ``lower`` (or upper) triangle
    of ``a`` describes: the other triangle is not read, nor (Hermitian, as LAPACK) the
    imaginary part of the diagonal."""
    off = fnp.tril(a, k=-1) if lower else fnp.triu(a, k=1)
    strict = fnp.matrix_transpose(off)
    if not (conj and _dtype(a).kind == "c"):
        return fnp.add(fnp.tril(a) if lower else fnp.triu(a), strict)
    # the diagonal's real part only (a Hermitian matrix's diagonal is real)
    diag = fnp.astype(fnp.real(fnp.triu(fnp.tril(a))), _dtype(a))
    return fnp.add(fnp.add(off, diag), fnp.conj(strict))


def _rhs(a, b, name, joint=False):
    """``a`` and ``b`` in their common floating dtype, ``b``'s shape checked against ``a``:
    each made floating first as :func:`_lapack_float` does (with ``joint``, as SciPy's
    ``solve``: float64 if neither is floating)."""
    b = fnp.asarray(b)
    if joint and _dtype(a).kind not in "fc" and _dtype(b).kind not in "fc":
        dt = _dt.float64
    else:
        dt = fnp.result_type(_lapack_float(a), _lapack_float(b))
    a, b = fnp.astype(a, dt), fnp.astype(b, dt)
    sa, sb = _shape(a), _shape(b)
    rows = sb[0] if len(sb) == 1 else (sb[-2] if len(sb) >= 2 else None)
    if rows != sa[-1]:
        raise ValueError(f"{name}: shapes of a {sa} and b {sb} are incompatible")
    return a, b


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """The solution ``x`` of ``a @ x = b`` for a triangular ``a`` (``a.T @ x = b`` for
    ``trans`` 1 or 'T', ``a.conj().T @ x = b`` for 2 or 'C').

    Only the ``lower`` (default: upper) triangle of ``a`` is read, and not its diagonal if
    ``unit_diagonal`` (taken as ones). ``b`` is ``(M,)`` or ``(..., M, K)``; batch axes
    broadcast. A triangular solve (the backend's: SciPy, torch, CuPy; a general solve of the
    masked triangle where the library has none)."""
    a, b = _convs((a, b))  # (array-likes next to the other operand, on its library/device)
    a = _matrix(a, "solve_triangular")
    a, b = _rhs(a, b, "solve_triangular")
    try:
        t = _TRANS[trans]
    except (KeyError, TypeError):
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2 or 'N', 'T', 'C'; got "
                         f"{trans!r}") from None
    tri = _triangle(a, lower, unit_diagonal)
    if t == "T":
        tri, lower = fnp.matrix_transpose(tri), not lower
    elif t == "C":
        tri, lower = _h(tri), not lower
    return _LA._solve_triangular(tri, b, lower)


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor of a symmetric (Hermitian) positive-definite matrix: upper
    triangular ``U`` with ``a = U^H U`` (lower ``L``, ``a = L L^H``, if ``lower``).

    Only the chosen triangle of ``a`` is read (the other is taken as its mirror image). A
    matrix that is not positive definite raises the backend's error."""
    a = _matrix(a, "cholesky")
    low = _LA.cholesky(_hermitian(a, lower))
    return low if lower else _h(low)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factorization in SciPy's packed form for :func:`cho_solve`: ``(c,
    lower)``, with the factor in the chosen triangle of ``c`` and, as in SciPy, the entries
    of ``a`` left in its other triangle (which :func:`cho_solve` does not read)."""
    a = _matrix(a, "cho_factor")
    f = cholesky(a, lower=lower)
    rest = fnp.triu(a, k=1) if lower else fnp.tril(a, k=-1)
    return fnp.add(f, rest), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """The solution ``x`` of ``A @ x = b`` given the Cholesky factorization ``(c, lower)`` of
    ``A`` from :func:`cho_factor` (only the triangle of ``c`` named by ``lower`` is read):
    two triangular solves."""
    try:
        c, lower = c_and_lower
    except (TypeError, ValueError):
        raise TypeError("cho_solve: c_and_lower must be a pair (c, lower), as cho_factor "
                        "returns it") from None
    c, b = _convs((c, b))
    c = _matrix(c, "cho_solve")
    c, b = _rhs(c, b, "cho_solve")
    f = fnp.tril(c) if lower else fnp.triu(c)
    vec = len(_shape(b)) == 1
    if vec:  # (a vector with a stack of factors: the first solve gives a stack of vectors)
        b = fnp.reshape(b, _shape(b) + (1,))
    # A = L L^H: L y = b, then L^H x = y (A = U^H U: U^H y = b, then U x = y)
    first, second = (f, _h(f)) if lower else (_h(f), f)
    # (the first factor is lower triangular either way, the second upper)
    x = _LA._solve_triangular(second, _LA._solve_triangular(first, b, True), False)
    return x[..., 0] if vec else x


def _getrf(a):
    """LAPACK's ``getrf``: the LU factorization with partial pivoting of ``a`` (..., M, N),
    by Gaussian elimination on whole arrays, one column at a time (so that every transform
    sees elementary operations): ``(lu, piv)`` with ``piv[..., k]`` the row swapped with row
    ``k`` at step ``k``. The pivot is the first entry of largest magnitude (``|re| + |im|``
    for complex numbers, as LAPACK's ``i?amax``); a zero pivot leaves its column as it is."""
    m, n = _shape(a)[-2:]
    rows, cols = _iota(a, m), _iota(a, n)   # (on a's library and device)
    pivots = []
    a0, jumps = a, None
    for k in range(min(m, n)):
        col = fnp.stop_gradient(a[..., :, k])
        size = fnp.abs(fnp.real(col)) + fnp.abs(fnp.imag(col)) if _dtype(a).kind == "c" \
            else fnp.abs(col)
        p = fnp.argmax(fnp.where(rows >= k, size, -fnp.ones_like(size)), axis=-1)
        pivots.append(p)
        pk = p[..., None]
        # (the pivot, maybe a tracer, on the left: array-api-strict refuses one on the right)
        order = fnp.where(rows == k, pk, fnp.where(pk == rows, k, rows))   # swap rows k, p
        a = fnp.take_along_axis(a, fnp.broadcast_to(order[..., :, None], _shape(a)), axis=-2)
        pivot = a[..., k:k + 1, k:k + 1]
        safe = fnp.where(pivot == 0, fnp.ones_like(pivot), pivot)
        if k < m - 1:
            zero = fnp.stop_gradient(pivot)[..., 0, 0] == 0
            jumps = zero if jumps is None else fnp.logical_or(jumps, zero)
        below = (rows > k)[:, None]
        mult = fnp.where(below, a[..., :, k:k + 1] / safe, fnp.zeros_like(pivot))  # (..., M, 1)
        # (mult * row + 0: a zero product subtracted as +0, which keeps an entry's sign, as
        # LAPACK's (OpenBLAS's getf2 subtracts dot products summed from +0). As x - (-0) =
        # x + 0 a -0.0 became +0 (lu_factor([[0, -0], [-1, 0]]) U[1, 1] +0 where SciPy's is
        # -0; then lu_solve's infinities had the other sign: 542 of 1200 2 x 2 to 4 x 4
        # matrices of signed zeros and small integers differed from SciPy's)
        a = fnp.where(below & (cols > k)[None, :], a - (mult * a[..., k:k + 1, :] + 0.0), a)
        a = fnp.where(below & (cols == k)[None, :], mult, a)
    piv = fnp.stack(pivots, axis=-1) if pivots else \
        fnp.reshape(fnp.stop_gradient(a)[..., :0, :0], _shape(a)[:-2] + (0,))
    if jumps is not None:
        # (added, not a factor: at a zero matrix the factor's cotangent, ct * a, is 0 and
        # reverse mode lost the nan; subtracted: x - (+0) keeps a -0.0 pivot, whose sign
        # decides the infinities' signs in lu_solve, as SciPy's; x + 0 made it +0)
        jumping = jumps[..., None, None]
        from .special import _nan_slope
        slope = fnp.astype(_nan_slope(a0, jumping, 0.0), _dtype(a0))
        a = fnp.where(jumping, a - slope, a)
    return a, fnp.astype(piv, _dt.int32)


def _nan_slope_where(jumps, a0):
    """1 for each matrix of the stack ``a0`` (shape ``(..., 1, 1)``), with a nan derivative
    where ``jumps``: a zero pivot with rows below it (the pivot then chosen among entries
    that are all 0: L and U jump with the direction of a change of ``a0`` and have no
    derivative; JAX's is nan). The derivative was finite there (the multipliers of a zero
    column taken as 0). Only in the directions that move that matrix: 0 in the others, and
    for the other matrices of the stack (special._nan_slope's strong zero; it was
    ``1 + 1 / (inf (1 + 0 s))``, whose zero tangent met inf: nan between the matrices)."""
    from .special import _nan_slope
    factor = 1.0 + _nan_slope(a0, jumps[..., None, None], 0.0)
    return fnp.astype(factor, _dtype(a0))


def _permutation(piv, m):
    """The rows ``perm`` (int32) with ``a[perm] = l @ u``, from LAPACK's sequence of swaps
    ``piv`` (a primitive: one small operation per swap on the library's arrays)."""
    return _P.lu_pivots_to_permutation(piv, m)


def lu_factor(a, overwrite_a=False, check_finite=True):
    """The LU factorization with partial pivoting in LAPACK's packed form, for
    :func:`lu_solve`: ``(lu, piv)``, with ``L`` (unit diagonal, not stored) below the
    diagonal of ``lu`` and ``U`` on and above it, and ``piv`` (int32) the row interchanged
    with row ``i`` at step ``i``. ``a`` is ``(..., M, N)``; the pivots are SciPy's (the first
    entry of largest magnitude in each column). A singular matrix gives a zero on the
    diagonal of ``U`` (SciPy warns; no warning here). Derivatives flow through ``lu`` (the
    pivots are integers and carry none)."""
    a = _lapack_float(a)
    if len(_shape(a)) < 2:
        raise ValueError(f"lu_factor: expected a matrix (or a stack of them); got shape "
                         f"{_shape(a)}")
    return _getrf(a)


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """The solution ``x`` of ``a @ x = b`` (``a.T @ x = b`` for ``trans`` 1, ``a.conj().T @
    x = b`` for 2) given ``(lu, piv)`` from :func:`lu_factor` of a square ``a``: the row
    interchanges, then two triangular solves. ``b`` is ``(M,)`` or ``(..., M, K)``. A zero
    pivot (singular ``a``) is divided by, as SciPy: infinities and nans, no error; the
    derivative in ``lu`` is nan there (in ``b`` the same solve: infinities). A complex
    entry divided by a zero pivot follows the library's division (NumPy: ``inf - inf j``),
    where LAPACK's gives ``nan + nan j``: the same entries are infinite or nan."""
    try:
        lu_, piv = lu_and_piv
    except (TypeError, ValueError):
        raise TypeError("lu_solve: lu_and_piv must be a pair (lu, piv), as lu_factor "
                        "returns it") from None
    try:
        t = _TRANS[trans]
    except (KeyError, TypeError):
        raise ValueError(f"lu_solve: trans must be 0, 1, 2 or 'N', 'T', 'C'; got "
                         f"{trans!r}") from None
    lu_, b = _convs((lu_, b))
    lu_ = _matrix(lu_, "lu_solve")
    lu_, b = _rhs(lu_, b, "lu_solve")
    m = _shape(lu_)[-1]
    vec = len(_shape(b)) == 1
    if vec:
        b = fnp.reshape(b, _shape(b) + (1,))
    piv = fnp.asarray(piv)
    if _shape(piv)[-1:] != (m,):
        # (fewer swaps were taken as the last ones being none: a silent wrong solution)
        raise ValueError(f"lu_solve: piv must hold one pivot per row of lu, shape (..., {m}) "
                         f"as lu_factor gives it for lu of shape {_shape(lu_)}; got shape "
                         f"{_shape(piv)}")
    perm = _permutation(piv, m)                                       # a[perm] = L U
    lower = fnp.tril(lu_, k=-1)
    if isinstance(lu_, _Tracer):
        # a zero on U's diagonal: x (inf/nan) has no derivative in L's entries either, nan
        # in both modes (reverse mode gave +-inf through the right-hand side of U's solve,
        # forward mode nan from U's zero tangent times the infinite x)
        singular = fnp.any(fnp.stop_gradient(fnp.diagonal(lu_, axis1=-2, axis2=-1)) == 0,
                           axis=-1)
        lower = lower * _nan_slope_where(singular, lu_)
    lower = lower + _eye_like(lu_)
    upper = fnp.triu(lu_)
    shape = fnp.broadcast_shapes(_shape(perm)[:-1], _shape(b)[:-2]) + _shape(b)[-2:]
    b = fnp.broadcast_to(b, shape)
    index = fnp.broadcast_to(perm[..., :, None], shape)
    # (a zero on U's diagonal is divided by, as LAPACK's getrs and so SciPy: inf/nan)
    if t == "N":   # L U x = b[perm]
        x = _LA._solve_triangular(upper, _LA._solve_triangular(
            lower, fnp.take_along_axis(b, index, axis=-2), True), False, True)
    else:          # U^T L^T y = b with y = x[perm]
        tr = fnp.matrix_transpose if t == "T" else _h
        y = _LA._solve_triangular(tr(lower), _LA._solve_triangular(tr(upper), b, True, True),
                                  False)
        inverse = fnp.broadcast_to(fnp.argsort(perm, axis=-1)[..., :, None], shape)
        x = fnp.take_along_axis(y, inverse, axis=-2)
    return x[..., 0] if vec else x


def lu(a, permute_l=False, overwrite_a=False, check_finite=True, p_indices=False):
    """The LU factorization with partial pivoting ``a = p @ l @ u`` of ``a`` (..., M, N), as
    SciPy: ``(p, l, u)`` with ``p`` a permutation matrix (M, M) of ``a``'s real dtype (with
    ``p_indices``, the int32 rows ``p`` with ``a = l[p] @ u``), ``l`` (M, K) unit lower
    triangular and ``u`` (K, N) upper triangular, ``K = min(M, N)``; ``(p @ l, u)`` if
    ``permute_l``. The pivots are :func:`lu_factor`'s."""
    a = _lapack_float(a)
    if len(_shape(a)) < 2:
        raise ValueError(f"lu: expected a matrix (or a stack of them); got shape {_shape(a)}")
    m, n = _shape(a)[-2:]
    k = min(m, n)
    packed, piv = _getrf(a)
    unit = fnp.astype(_iota(a, m)[:, None] == _iota(a, k)[None, :], _dtype(a))
    lower = fnp.tril(packed[..., :, :k], k=-1) + unit
    upper = fnp.triu(packed[..., :k, :])
    rows = fnp.astype(fnp.argsort(_permutation(piv, m), axis=-1), _dt.int32)  # a = l[rows] @ u
    if permute_l:
        return fnp.take_along_axis(lower, fnp.broadcast_to(
            fnp.astype(rows, _dt.int64)[..., :, None], _shape(lower)), axis=-2), upper
    if p_indices:
        return rows, lower, upper
    # (real even for complex a, as SciPy: a permutation)
    p = fnp.astype(rows[..., :, None] == _iota(rows, m, _dtype(rows)), _dt.real_dtype(_dtype(a)))
    return p, lower, upper


_STRUCTURES = {
    None: "gen", "gen": "gen", "general": "gen", "diagonal": "diagonal",
    "tridiagonal": "tridiagonal", "upper triangular": "upper", "lower triangular": "lower",
    "pos": "pos", "positive definite": "pos", "sym": "sym", "symmetric": "sym",
    "her": "her", "hermitian": "her",
}


_INV_STRUCTURES = (None, "gen", "general", "diagonal", "upper triangular", "lower triangular",
                   "pos", "sym", "her")


def _structured(a, assume_a, lower, name, allowed=None):
    """The matrix that SciPy's solvers see for ``assume_a``: only the entries they read."""
    if allowed is not None and assume_a not in allowed:
        raise ValueError(f"{name}: {assume_a} is not a recognized matrix structure; use one "
                         f"of {[k for k in allowed if k]} or None")
    if assume_a == "banded":
        raise NotImplementedError(f"{name}: assume_a='banded' is not supported (its band is "
                                  f"found from the values); use 'gen'")
    try:
        kind = _STRUCTURES[assume_a]
    except (KeyError, TypeError):
        raise ValueError(f"{name}: {assume_a} is not a recognized matrix structure; use one "
                         f"of {sorted(k for k in _STRUCTURES if k)} or None") from None
    if kind == "gen":
        return a, kind
    if kind == "diagonal":
        return fnp.triu(fnp.tril(a)), kind  # (selected: an inf off the diagonal is not read)
    if kind == "tridiagonal":
        return fnp.triu(fnp.tril(a, k=1), k=-1), kind
    if kind in ("upper", "lower"):
        return _triangle(a, kind == "lower"), kind
    return _hermitian(a, lower, conj=kind != "sym"), kind


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    """The solution ``x`` of ``a @ x = b`` (``a.T @ x = b`` if ``transposed``).

    ``assume_a`` names the structure as in SciPy ('gen', 'diagonal', 'tridiagonal', 'upper
    triangular', 'lower triangular', 'sym', 'her', 'pos'); only the entries that structure
    uses are read (for 'sym', 'her' and 'pos' the triangle chosen by ``lower``), and 'pos'
    goes through a Cholesky factor (a matrix that is not positive definite raises).
    ``None`` (SciPy's structure detection from the values) is solved as 'gen': the same
    solution. 'banded' is not supported (NotImplementedError). ``b`` is ``(M,)`` or
    ``(..., M, K)``; batch axes broadcast."""
    a, b = _convs((a, b))
    if not _shape(b):  # (a number: a vector of one, as SciPy takes it)
        b = fnp.reshape(b, (1,))
    a = _square(a, "solve")
    a, b = _rhs(a, b, "solve", joint=True)
    m, kind = _structured(a, assume_a, lower, "solve")
    if transposed:
        if _dtype(a).kind == "c":
            raise NotImplementedError("solve: transposed=True is not supported for complex "
                                      "a (as in SciPy)")
        m = fnp.matrix_transpose(m)
    if kind == "pos":
        return cho_solve((_LA.cholesky(m), True), b)
    if kind in ("upper", "lower"):  # m is the masked triangle (transposed: the other one)
        return _LA._solve_triangular(m, b, (kind == "lower") != bool(transposed))
    return _LA.solve(m, b)


def inv(a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False):
    """The inverse matrix (of each matrix of a stack). ``assume_a`` (SciPy's names for
    ``inv``: 'gen', 'diagonal', 'upper triangular', 'lower triangular', 'pos', 'sym', 'her'
    or None) and ``lower`` as in :func:`solve`: only the entries the structure uses are read
    ('diagonal': the diagonal, as SciPy documents it; SciPy 1.17 reads the whole matrix
    there), 'pos' goes through a Cholesky factor."""
    a = _matrix(a, "inv")
    m, kind = _structured(a, assume_a, lower, "inv", _INV_STRUCTURES)
    if kind == "pos":
        return cho_solve((_LA.cholesky(m), True), _eye_like(m))
    return _LA.inv(m)


def det(a, overwrite_a=False, check_finite=True):
    """The determinant (of each matrix of a stack). float64 (complex128) whatever the input's
    dtype, as SciPy gives it: float32 input is computed in float32 and then converted."""
    d = _LA.det(_square(_float(fnp.asarray(a)), "det"))
    target = _dt.complex128 if _dtype(d).kind == "c" else _dt.float64
    return fnp.astype(d, target)


def block_diag(*arrs):
    """The block-diagonal matrix with the given blocks in order: each input is made 2-D
    (a number becomes ``(1, 1)``, a vector ``(1, n)``), all in their common dtype (Python
    numbers count as int64/float64 arrays, as in SciPy); leading batch axes broadcast. No
    input gives an empty ``(1, 0)`` float64 array."""
    if not arrs:
        arrs = ([],)
    blocks = [fnp.atleast_2d(x) for x in _convs(arrs)]
    batch = fnp.broadcast_shapes(*(_shape(x)[:-2] for x in blocks))
    # the namespace's one promotion rule (an integer block with a float32 one gives float32,
    # as concat does; SciPy, through NumPy, gives float64)
    dt = fnp.result_type(*blocks)
    cols = sum(_shape(x)[-1] for x in blocks)
    rows, c = [], 0
    for x in blocks:
        x = fnp.broadcast_to(fnp.astype(x, dt), batch + _shape(x)[-2:])
        w = _shape(x)[-1]
        pad = [(0, 0)] * (len(batch) + 1) + [(c, cols - c - w)]
        rows.append(fnp.pad(x, pad))
        c += w
    return fnp.concat(rows, axis=-2)



# Coefficients of the [13/13] Pade approximant of exp (numerator; the denominator has the same
# with alternating signs); the number of squarings is the expm_squarings primitive's
# (Al-Mohy and Higham 2009).
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
           1187353796428800.0, 129060195264000.0, 10559470521600.0, 670442572800.0,
           33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
# The [7/7] one, (14 - j)! / (j! (7 - j)!): single precision's (expm_squarings' theta for it)
_PADE7 = (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0)


def expm(A, *, upper_triangular=False, max_squarings=None):
    """The matrix exponential ``sum_k A^k / k!`` of a square matrix, or of each matrix of a
    stack ``(..., n, n)`` (as SciPy >= 1.9).

    Scaling and squaring with the [13/13] Pade approximant: ``A / 2^s`` with Al-Mohy and
    Higham's (2009) ``s`` for each matrix (from the 1-norms of powers of ``A``, so that a
    non-normal matrix is not over-scaled: each squaring doubles the rounding error), the
    approximant by one solve, then ``s`` squarings. SciPy uses the same ``s`` and also lower
    degrees for small matrices: the results agree to a few units of the rounding error.
    ``s`` depends on the values: eagerly the squarings are a Python loop; under ``jit`` or
    ``vmap`` a :func:`functrans.lax.while_loop` whose trip count is the largest ``s`` of the
    batch, each matrix squared only while its own count lasts (nothing is read on the
    host). Differentiable to any order (built from matmul and solve). Integer input gives
    float64, float32 stays float32 (computed in single precision with the [7/7] approximant
    at single precision's threshold 3.925, within about 5e-6 of the largest entry where the
    approximant cancels, SciPy's 2.5e-5; booleans: float64, where SciPy gives float16;
    float16 and bfloat16: a TypeError); complex input is accepted. A 1 x 1 matrix gives the
    exponential of its entry (as SciPy). Eagerly, a diagonal matrix with an inf or nan entry
    gives the exponential of its diagonal, as SciPy (its derivative the full Frechet
    derivative: nan off the diagonal beside a +inf), and a matrix whose only non-finite
    entries are -inf on the diagonal the limit, the exponential of the matrix without those
    rows and columns and 0 in them (SciPy's is nan); under ``jit`` the same values (their
    derivative there nan); any other non-finite matrix gives nan throughout. Fewer
    than two dimensions or non-square: ValueError (SciPy's ``LinAlgError`` is a subclass).

    JAX's keywords: ``upper_triangular`` is accepted as a hint (the result is the same
    whatever it says; JAX's is wrong for a matrix that is not upper triangular);
    a matrix needing more than ``max_squarings`` squarings gives NaN, as JAX. The default
    ``None`` sets no limit, as SciPy (JAX's default 16 gives NaN for, e.g., the nilpotent
    ``[[0, 1e6], [0, 0]]``, whose exponential is finite and needs no squaring here)."""
    if max_squarings is not None:
        max_squarings = operator.index(max_squarings)
    a = fnp.asarray(A)
    shape = _shape(a)
    if len(shape) < 2:
        raise ValueError("expm: the input array must be at least two-dimensional; got "
                         f"shape {shape}")
    if shape[-1] != shape[-2]:
        raise ValueError(f"expm: the last 2 dimensions of the array must be square; got "
                         f"shape {shape}")
    if _dtype(a).kind not in "fc":
        a = fnp.astype(a, _dt.float64)
    out_dt = _dtype(a)
    if _P._is_half(_dt.real_dtype(out_dt)):
        _P._refuse_half("expm", out_dt)
    n = shape[-1]
    if 0 in shape:
        return fnp.asarray(a, copy=True)
    if n == 1 and max_squarings is None:
        # (the exponential of the entry, as SciPy's: correctly rounded where the approximant
        # cancels (float32 [[-19.747396]]), and inf, 0, nan for an inf, -inf, nan entry also
        # under jit)
        return fnp.exp(a)
    # (single precision stays single: computing it in double, as SciPy effectively does for
    # a 1 x 1, made expm([[-19.747396]]) correctly rounded (it is 4e-6 off, SciPy's worst on
    # 60 random float32 matrices 1.2e-5, ours 1.8e-5) but float32 200 x 200 2x slower on the
    # CPU and far more on GPUs with slow double precision)
    from .special import _concrete_behind, _may_hold, _maybe_nonfinite
    diagonal = None
    staged = _concrete_behind(a) is None
    a_staged = a
    if not staged and _maybe_nonfinite(a):
        # a diagonal matrix with an inf or nan entry: the exponential of each diagonal entry
        # (SciPy's: diag(inf, 1) gives diag(inf, e), diag(-inf, 1) diag(0, e); the approximant
        # gives nan throughout). Any other non-finite matrix stays nan (also SciPy's). The
        # general path sees zeros in their place (no nan into the other matrices' derivatives).
        # Eagerly only: staged (jit) it cost 13 operations a call (2 x 2 under jit 75 -> 110
        # us) for every matrix; there expm_nonfinite_fix gives the same values at evaluation
        zeros = fnp.zeros_like(a)
        off = fnp.where(fnp.eye(n, dtype=_dt.bool_, device=fnp.device(a)), zeros, a)
        diagonal = fnp.broadcast_to(fnp.logical_and(
            fnp.all(fnp.equal(off, 0), axis=(-2, -1), keepdims=True),
            fnp.logical_not(fnp.all(fnp.isfinite(a), axis=(-2, -1), keepdims=True))), shape)
        a_diagonal = fnp.where(diagonal, a, zeros)
        a = fnp.where(diagonal, zeros, a)
        # (session 38) -inf on the diagonal of another matrix whose other entries are finite:
        # the limit, the exponential of the matrix without those rows and columns, 0 in them
        # (exp([[-M, b], [c, d]]) -> [[0, 0], [0, e^d]] as M -> inf: the coupling's effect
        # is O(1/M); for a triangular matrix the divided differences with a node at -inf
        # vanish). SciPy's and the approximant's: nan ([[-inf, 1], [0, 1]] gave nan
        # throughout, SciPy [[nan, nan], [0, nan]]). The general path sees those rows and
        # columns as zeros: no derivative in them (the limit's is 0)
        eye = fnp.eye(n, dtype=_dt.bool_, device=fnp.device(a))
        d = fnp.diagonal(a, axis1=-2, axis2=-1)
        drop = fnp.equal(d, -math.inf)
        lines = fnp.logical_or(drop[..., :, None], drop[..., None, :])
        rest = fnp.where(fnp.logical_and(lines, eye), zeros, a)
        drop = fnp.logical_and(lines, fnp.logical_and(
            fnp.logical_not(diagonal),
            fnp.all(fnp.isfinite(rest), axis=(-2, -1), keepdims=True)))
        if _may_hold(drop):
            a = fnp.where(drop, zeros, a)
            diagonal = fnp.logical_or(diagonal, drop)
            a_diagonal = fnp.where(drop, fnp.where(eye, -math.inf, zeros), a_diagonal)
    # the number of squarings of each matrix: no derivative (an integer; the primitive's
    # tangent is zero, so no stop_gradient node: one node fewer per call under jit)
    s = _P.expm_squarings(a)
    too_many = None
    if max_squarings is not None:
        too_many = fnp.reshape(s > max_squarings, shape[:-2] + (1, 1))
        s = fnp.minimum(s, float(max_squarings))
    s = fnp.reshape(s, shape[:-2] + (1, 1))
    a = fnp.multiply(a, fnp.astype(fnp.pow(2.0, -s), _dtype(a)))
    eye = fnp.eye(n, dtype=_dtype(a), device=fnp.device(a))
    a2 = fnp.matmul(a, a)
    a4 = fnp.matmul(a2, a2)
    a6 = fnp.matmul(a4, a2)
    if _dt.real_dtype(out_dt).bits < 64:
        # single precision: the [7/7] approximant (float32's own theta, expm_squarings';
        # [13/13] at float64's theta was 4e-6 off for [[-19.747396]], now 5.6e-7)
        b = _PADE7
        u = fnp.matmul(a, b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
        v = b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    else:
        b = _PADE13
        u = fnp.matmul(a, fnp.matmul(a6, b[13] * a6 + b[11] * a4 + b[9] * a2)
                       + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
        v = (fnp.matmul(a6, b[12] * a6 + b[10] * a4 + b[8] * a2)
             + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye)
    # (both sides divided by b0 = b[0]: the solve of b0 I by b0 I gave 1 - 2^-53 on the
    # diagonal of expm(0), LAPACK multiplying by reciprocals; I by I is I exactly)
    r = _LA.solve((v - u) / b[0], (v + u) / b[0])
    s = fnp.astype(s, fnp.int64)
    steps = fnp.max(s)

    # (a while_loop with fnp's comparisons rather than fori_loop(0, steps): fori_loop
    # compares its counter with the operator, which array-api-strict's plain counter
    # refuses beside a traced bound)
    def more(c):
        return fnp.less(c[0], steps)

    def square(c):
        i, r = c
        return fnp.add(i, 1), fnp.where(fnp.greater(s, i), fnp.matmul(r, r), r)
    r = _lax.while_loop(more, square, (fnp.zeros_like(steps), r))[1]
    if diagonal is not None:
        r = fnp.where(diagonal, _expm_diagonal()(a_diagonal), r)
    if staged:
        # (jit: the non-finite matrices' eager values, by one node whose evaluation reads a
        # once on the host; the staged checks above cost +45 % for every 2 x 2)
        r = _P.expm_nonfinite_fix(a_staged, r)
    if too_many is not None:
        r = fnp.where(too_many, fnp.full_like(r, math.nan), r)
    return fnp.astype(r, out_dt)


_expm_diagonal_fn = None


def _expm_diagonal():
    """The exponential of a (stack of) diagonal matrices, ``diag(exp(d))``, as a custom_jvp
    function (made once) whose derivative is the full Frechet derivative, off the diagonal
    too: ``dA_ij (e^d_i - e^d_j) / (d_i - d_j)`` (``e^d_i`` where ``d_i = d_j``)."""
    global _expm_diagonal_fn
    if _expm_diagonal_fn is None:
        from ..custom import custom_jvp
        _expm_diagonal_fn = custom_jvp(_expm_diagonal_value)
        _expm_diagonal_fn.defjvp(_expm_diagonal_jvp)
    return _expm_diagonal_fn


def _expm_diagonal_value(a):
    n = _shape(a)[-1]
    e = fnp.exp(fnp.diagonal(a, axis1=-2, axis2=-1))[..., None, :]
    # (where, not a product with I: 0 * inf off the diagonal is nan)
    return fnp.where(fnp.eye(n, dtype=_dt.bool_, device=fnp.device(a)), e, fnp.zeros_like(a))


def _expm_diagonal_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    d = fnp.diagonal(a, axis1=-2, axis2=-1)
    di, dj = d[..., :, None], d[..., None, :]
    ei, ej = fnp.exp(di), fnp.exp(dj)
    tie = fnp.equal(di, dj)
    finite = fnp.logical_and(fnp.isfinite(di), fnp.isfinite(dj))
    # finite pairs: e^((d_i + d_j) / 2) sinh(h) / h with h = (d_i - d_j) / 2, no cancellation
    # for close d_i, d_j; the others (an inf or nan): the quotient itself, (0 - e^x) / -inf = 0
    h = fnp.where(finite, fnp.divide(fnp.subtract(di, dj), 2.0), fnp.zeros_like(di))
    h_safe = fnp.where(fnp.equal(h, 0), fnp.ones_like(h), h)
    mean = fnp.where(finite, fnp.divide(fnp.add(di, dj), 2.0), fnp.zeros_like(di))
    close = fnp.multiply(fnp.exp(mean), fnp.divide(fnp.sinh(h_safe), h_safe))
    den = fnp.where(tie, fnp.ones_like(di), fnp.subtract(di, dj))
    far = fnp.divide(fnp.subtract(ei, ej), den)
    q = fnp.where(tie, fnp.broadcast_to(ei, _shape(a)), fnp.where(finite, close, far))
    # (a strong zero in da: a zero tangent or cotangent gives 0 beside a nan or inf q, not
    # nan in the other entries' and the stack's other matrices' derivatives)
    from ..primitives.elementwise import mul_sz
    return _expm_diagonal_fn(a), mul_sz(q, da)


_EIGH_DRIVERS = ("ev", "evd", "evr", "evx", "gv", "gvd", "gvx")


def eigh(a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False,
         type=1, check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    """Eigenvalues (ascending) and eigenvectors of a symmetric (Hermitian) matrix, reading
    only its ``lower`` (default) or upper triangle, as SciPy; ``w`` alone with
    ``eigvals_only``. With ``b`` (symmetric positive definite, same triangle read), SciPy's
    generalized problems: ``type=1`` ``a v = w b v``, ``type=2`` ``a b v = w v`` and
    ``type=3`` ``b a v = w v``, the vectors normalized as LAPACK's (``v^H b v = I`` for
    types 1 and 2, ``v^H b^-1 v = I`` for type 3): with ``b = L L^H``, the standard problem
    of ``L^-1 a L^-H`` (``v = L^-H y``) for type 1 and of ``L^H a L`` for types 2
    (``v = L^-H y``) and 3 (``v = L y``).

    ``subset_by_index=[lo, hi]`` keeps the eigenvalues of indices ``lo .. hi`` (inclusive,
    as SciPy) and their vectors; ``subset_by_value=[lo, hi]`` those in the half-open
    interval ``(lo, hi]``: a number that depends on the values, so concrete values are
    needed (not under ``jit``/``vmap``; eager ``grad``/``jvp`` are fine) and every matrix
    of a stack must keep as many. ``driver`` is checked as SciPy checks it and has no other
    effect. Differentiable (any order) where the eigenvalues are distinct (for a subset:
    where each kept one differs from every other)."""
    if b is not None and type not in (1, 2, 3):  # (SciPy ignores it without b)
        raise ValueError(f'eigh: the "type" keyword only accepts 1, 2 and 3; got {type!r}')
    if driver is not None:
        if driver not in _EIGH_DRIVERS:
            raise ValueError(f'eigh: driver "{driver}" is unknown; possible values are None, '
                             + ", ".join(f'"{d}"' for d in _EIGH_DRIVERS))
        if (b is None) == driver.startswith("g"):
            raise ValueError(f'eigh: driver "{driver}" is for ' + (
                "generalized problems (pass b)" if b is None else
                "standard problems; with b, use one of 'gv', 'gvd', 'gvx' (or None)"))
    if subset_by_index is not None and subset_by_value is not None:
        raise ValueError("eigh: either subset_by_index or subset_by_value can be requested, "
                         "not both")
    subset = subset_by_index is not None or subset_by_value is not None
    if subset and driver in ("ev", "evd", "gv", "gvd"):
        raise ValueError(f'eigh: driver "{driver}" cannot compute subsets of eigenvalues (use '
                         f'"evr", "evx", "gvx" or None)')
    a = _matrix(a, "eigh")
    h = _hermitian(a, lower)
    if b is None:
        w, v = _LA.eigh(h)
    else:
        (b,) = _convs((b,))
        bm = _hermitian(_matrix(b, "eigh"), lower)
        dt = fnp.result_type(h, bm)
        h, bm = fnp.astype(h, dt), fnp.astype(bm, dt)
        low = _LA.cholesky(bm)
        if type == 1:  # C = L^-1 a L^-H
            x = _LA._solve_triangular(low, h, True)
            c = _h(_LA._solve_triangular(low, _h(x), True))
        else:  # C = L^H a L
            c = fnp.matmul(_h(low), fnp.matmul(h, low))
        w, y = _LA.eigh(fnp.multiply(fnp.add(c, _h(c)), 0.5))
        v = fnp.matmul(low, y) if type == 3 else _LA._solve_triangular(_h(low), y, False)
    if subset_by_index is not None:
        w, v = _eigh_by_index(w, v, subset_by_index)
    elif subset_by_value is not None:
        w, v = _eigh_by_value(w, v, subset_by_value)
    return w if eigvals_only else (w, v)


def _eigh_by_index(w, v, subset):
    n = _shape(w)[-1]
    try:
        lo, hi = (int(k) for k in subset)
    except (TypeError, ValueError):
        raise ValueError(f"eigh: subset_by_index must be two integers [lo, hi]; got "
                         f"{subset!r}") from None
    if not 0 <= lo <= hi < n:
        raise ValueError(f"eigh: subset_by_index [{lo}, {hi}] is not valid: the indices must "
                         f"be in [0, {n - 1}] with lo <= hi")
    return w[..., lo:hi + 1], v[..., :, lo:hi + 1]


def _eigh_by_value(w, v, subset):
    try:
        lo, hi = (float(k) for k in subset)
    except (TypeError, ValueError):
        raise ValueError(f"eigh: subset_by_value must be two numbers [lo, hi]; got "
                         f"{subset!r}") from None
    if not lo < hi:
        raise ValueError(f"eigh: subset_by_value ({lo}, {hi}] is not valid: lo < hi is needed")
    ws = fnp.stop_gradient(w)
    # (the kept ones are consecutive, w being ascending: start and count per matrix)
    starts = fnp.sum(fnp.astype(ws <= lo, fnp.int64), axis=-1)
    counts = fnp.sum(fnp.astype((ws > lo) & (ws <= hi), fnp.int64), axis=-1)
    try:
        k, k_max = int(fnp.min(counts)), int(fnp.max(counts))
        s, s_max = int(fnp.min(starts)), int(fnp.max(starts))
    except (ConcretizationError, TracerArrayConversionError) as e:
        raise ConcretizationError("eigh: subset_by_value needs concrete eigenvalues (the result's size "
                         "depends on them): not under jit or vmap; use subset_by_index "
                         "there") from e
    if k != k_max:
        raise ValueError(f"eigh: subset_by_value keeps {k} to {k_max} eigenvalues in the "
                         f"matrices of this stack; it needs as many in each (or pass them "
                         f"one by one)")
    if s == s_max:
        return w[..., s:s + k], v[..., :, s:s + k]
    idx = fnp.add(starts[..., None], fnp.arange(k, dtype=starts.dtype))
    w = fnp.take_along_axis(w, idx, axis=-1)
    vi = fnp.broadcast_to(idx[..., None, :], _shape(v)[:-1] + (k,))
    return w, fnp.take_along_axis(v, vi, axis=-1)


def eigvalsh(a, b=None, *, lower=True, overwrite_a=False, overwrite_b=False, type=1,
             check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    """The eigenvalues of :func:`eigh` (ascending)."""
    return eigh(a, b, lower=lower, eigvals_only=True, type=type,
                subset_by_index=subset_by_index, subset_by_value=subset_by_value,
                driver=driver)


def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver="gesdd"):
    """Singular value decomposition ``a = U diag(s) Vh`` (``s`` descending; ``s`` alone
    without ``compute_uv``), as :func:`functrans.numpy.linalg.svd` (its derivative
    conventions); ``lapack_driver`` is accepted and has no effect."""
    if lapack_driver not in ("gesdd", "gesvd"):
        raise ValueError(f"svd: lapack_driver must be 'gesdd' or 'gesvd'; got "
                         f"{lapack_driver!r}")
    a = _lapack_float(a)
    if not compute_uv:
        return _LA.svdvals(a)
    return tuple(_LA.svd(a, full_matrices=full_matrices))


def svdvals(a, overwrite_a=False, check_finite=True):
    """The singular values, descending."""
    return _LA.svdvals(_lapack_float(a))


def _column_pivots(a):
    """The column order of LAPACK's ``geqp3`` (QR with column pivoting): at each step the
    remaining column of largest norm once the chosen ones are projected out (the first such
    on ties), by Gram-Schmidt on whole arrays (every backend, ``jit``, ``vmap``); int32.
    Only near-ties, where rounding decides, may choose differently from LAPACK."""
    w = fnp.stop_gradient(a)
    m, n = _shape(w)[-2:]
    cols = _iota(w, n)
    perm = fnp.broadcast_to(cols, _shape(w)[:-2] + (n,))
    for k in range(min(m, n)):
        size = fnp.sum(fnp.real(fnp.conj(w) * w), axis=-2)
        p = fnp.argmax(fnp.where(cols >= k, size, -fnp.ones_like(size)), axis=-1)
        pk = fnp.astype(p, perm.dtype)[..., None]
        order = fnp.where(cols == k, pk, fnp.where(pk == cols, k, cols))  # swap columns k, p
        perm = fnp.take_along_axis(perm, order, axis=-1)
        w = fnp.take_along_axis(w, fnp.broadcast_to(order[..., None, :], _shape(w)), axis=-1)
        q = w[..., :, k:k + 1]
        norm = fnp.sqrt(fnp.sum(fnp.real(fnp.conj(q) * q), axis=-2, keepdims=True))
        q = q / fnp.astype(fnp.where(norm == 0, fnp.ones_like(norm), norm), _dtype(w))
        later = (cols > k)[None, :]
        w = fnp.where(later, w - q * fnp.sum(fnp.conj(q) * w, axis=-2, keepdims=True),
                      fnp.zeros_like(w))
    return fnp.astype(perm, _dt.int32)


def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """QR decomposition as SciPy's: ``mode`` 'full' (``Q`` square), 'economic' (reduced)
    or 'r' (a 1-tuple ``(R,)``, as SciPy returns it). ``pivoting=True`` adds the int32
    column order ``P`` with ``a[:, P] = Q @ R`` (``(Q, R, P)``, ``(R, P)`` for 'r'), chosen
    as LAPACK's ``geqp3`` chooses it; the factors are those of ``a[:, P]``, differentiable
    (``P`` is constant nearby). Mode 'raw' raises NotImplementedError. Derivatives as
    :func:`functrans.numpy.linalg.qr`."""
    if mode == "raw":
        raise NotImplementedError("qr: mode='raw' is not supported (use 'full' or 'economic').")
    if mode not in ("full", "economic", "r"):
        raise ValueError(f"qr: mode must be 'full', 'economic', 'r' or 'raw'; got {mode!r}")
    a = _lapack_float(a)
    if len(_shape(a)) < 2:
        raise ValueError(f"qr: expected a matrix (or a stack of them); got shape {_shape(a)}")
    if pivoting:
        p = _column_pivots(a)
        ap = fnp.take_along_axis(a, fnp.broadcast_to(
            fnp.astype(p, _dt.int64)[..., None, :], _shape(a)), axis=-1)
        return qr(ap, mode=mode) + (p,)
    m, n = _shape(a)[-2:]
    if mode == "r":  # the complete R: the reduced one and, for a tall matrix, zero rows
        r = _LA.qr(a, mode="reduced")[1]
        if m > n:
            # (the zero rows as a's last m - n rows: r has no row to copy when n == 0)
            r = fnp.concat([r, fnp.zeros_like(a[..., n:, :])], axis=-2)
        return (r,)
    return tuple(_LA.qr(a, mode="complete" if mode == "full" else "reduced"))


def toeplitz(c, r=None):
    """The Toeplitz matrix with first column ``c`` and first row ``r`` (``r[0]`` ignored;
    by default ``conj(c)``, a Hermitian matrix). As SciPy 1.17, n-d ``c`` and ``r`` are
    batches of vectors along their last axis (broadcast together; a 0-d one is one entry);
    differentiable in both (one gather)."""
    import numpy as _np
    c = fnp.asarray(c)
    c = fnp.reshape(c, (1,)) if not _shape(c) else c
    if r is None:
        r = fnp.conj(c) if _dtype(c).kind == "c" else c  # (conj of bool would be int8)
    else:
        r = _convs((r, c))[0]
        r = fnp.reshape(r, (1,)) if not _shape(r) else r
    c, r = _convs((c, r))
    dt = fnp.result_type(c, r)
    c, r = fnp.astype(c, dt), fnp.astype(r, dt)
    m, n = _shape(c)[-1], _shape(r)[-1]
    batch = tuple(_np.broadcast_shapes(_shape(c)[:-1], _shape(r)[:-1]))
    c, r = fnp.broadcast_to(c, batch + (m,)), fnp.broadcast_to(r, batch + (n,))
    # vals = [r[n-1], ..., r[1], c[0], ..., c[m-1]]; entry (i, j) is vals[n - 1 + i - j]
    vals = fnp.concat([fnp.flip(r[..., 1:], axis=-1), c], axis=-1)
    if m == 0 or n == 0:
        return fnp.reshape(vals[..., :0], batch + (m, n))
    idx = ((n - 1) + _np.arange(m)[:, None] - _np.arange(n)[None, :]).reshape(-1)
    (idx,) = _convs((idx.tolist(), vals))[:1]  # on the values' library and device
    return fnp.reshape(fnp.take(vals, idx, axis=-1), batch + (m, n))


# -- linalg14: matrix equations, matrix functions, decompositions, special matrices ------------

from ..primitives import linalg as _P  # noqa: E402

__all__ += ["solve_sylvester", "solve_continuous_lyapunov", "solve_discrete_lyapunov",
            "sqrtm", "schur", "rsf2csf", "hessenberg", "polar", "funm", "expm_frechet",
            "eigh_tridiagonal", "qr_multiply", "circulant", "companion",
            "convolution_matrix", "dft", "fiedler", "fiedler_companion", "hadamard", "hankel",
            "helmert", "hilbert", "invhilbert", "invpascal", "leslie", "pascal"]


def _general(a, name):
    """``a`` as a floating stack of square matrices: integers and booleans become float64
    (as SciPy's Schur-based functions give them), float32 and complex64 stay."""
    return _square(_float(fnp.asarray(a)), name)


def _schur_general(a, name):
    """``a`` as :func:`_general` makes it, but booleans float32: SciPy's schur (and funm,
    which goes through it) makes integers int64 and so float64, and leaves booleans to
    LAPACK's type choice, float32."""
    a = fnp.asarray(a)
    if _dtype(a).kind == "b":
        a = fnp.astype(a, _dt.float32)
    return _general(a, name)


def _common(arrays):
    dt = fnp.result_type(*arrays)
    return [fnp.astype(x, dt) for x in arrays]


def _batched(arrays):
    """The stacks ``arrays`` broadcast to their common batch shape (last two axes kept)."""
    batch = fnp.broadcast_shapes(*(_shape(x)[:-2] for x in arrays))
    return [fnp.broadcast_to(x, batch + _shape(x)[-2:]) for x in arrays]


def solve_sylvester(a, b, q, *, method=None):
    """The solution ``X`` of the Sylvester equation ``a X + X b = q`` (``a`` (M, M), ``b``
    (N, N), ``q`` (M, N); batch axes broadcast).

    On NumPy arrays SciPy's Bartels-Stewart solver; on the other libraries (which have no
    Schur decomposition) one dense solve of the equivalent ``MN x MN`` linear system, so
    ``O((MN)^3)`` work there. Differentiable in all three (the derivative is another
    Sylvester equation; linear in ``q``). Where ``a`` and ``-b`` share an eigenvalue the
    equation is singular: SciPy's solver gives inf/nan or an error, the dense solve raises the
    backend's error. JAX's ``method`` ('schur' or 'eigen') is accepted and changes
    nothing (JAX's ``tol``, a check of the residual, is not)."""
    if method not in (None, "schur", "eigen"):
        raise ValueError(f"solve_sylvester: method must be 'schur' or 'eigen'; got {method!r}")
    a, b, q = _convs((a, b, q))
    a, b = _general(a, "solve_sylvester"), _general(b, "solve_sylvester")
    q = _float(fnp.asarray(q))
    sa, sb, sq = _shape(a), _shape(b), _shape(q)
    if len(sq) < 2 or sq[-2:] != (sa[-1], sb[-1]):
        raise ValueError(f"solve_sylvester: q must be (..., {sa[-1]}, {sb[-1]}) for a of shape "
                         f"{sa} and b of shape {sb}; got {sq}")
    a, b, q = _batched(_common((a, b, q)))
    return _P.sylvester(a, b, q)


def solve_continuous_lyapunov(a, q):
    """The solution ``X`` of the continuous Lyapunov equation ``a X + X a^H = q``: the
    Sylvester equation with ``b = a^H`` (see :func:`solve_sylvester`; batch axes
    broadcast)."""
    a, q = _convs((a, q))
    a = _general(a, "solve_continuous_lyapunov")
    return solve_sylvester(a, _h(a), q)


def solve_discrete_lyapunov(a, q, method=None):
    """The solution ``X`` of the discrete Lyapunov equation ``a X a^H - X + q = 0``.

    ``method`` as SciPy's: 'direct' solves the ``n^2 x n^2`` linear system ``(I - a (x)
    conj(a)) vec(X) = vec(q)``; 'bilinear' maps the equation to a continuous one (``b X +
    X b^H = -c`` with ``b = (a + I)^-1 (a - I)``, ``c = 2 (a + I)^-1 q (a + I)^-H``) and
    solves that; None picks 'direct' below n = 10, else 'bilinear'. The result is float64
    (complex128) whatever the input's precision, as SciPy gives it. Differentiable in ``a``
    and ``q``; batch axes broadcast."""
    if method not in (None, "direct", "bilinear"):
        raise ValueError(f"solve_discrete_lyapunov: unknown method {method!r}; use 'direct', "
                         f"'bilinear' or None")
    a, q = _convs((a, q))
    a = _general(a, "solve_discrete_lyapunov")
    q = fnp.asarray(q)
    n = _shape(a)[-1]
    if _shape(q)[-2:] != (n, n):
        raise ValueError(f"solve_discrete_lyapunov: q must be (..., {n}, {n}) for a of shape "
                         f"{_shape(a)}; got {_shape(q)}")
    dt = _dt.complex128 if "c" in (_dtype(a).kind, _dtype(q).kind) else _dt.float64
    a, q = _batched([fnp.astype(a, dt), fnp.astype(q, dt)])
    if method is None:
        method = "direct" if n < 10 else "bilinear"
    batch = _shape(a)[:-2]
    if method == "direct":
        ca = fnp.conj(a) if dt.kind == "c" else a
        # row-major vec(a X a^H) = (a (x) conj(a)) vec(X)
        kron = fnp.reshape(a[..., :, None, :, None] * ca[..., None, :, None, :],
                           batch + (n * n, n * n))
        eye = fnp.eye(n * n, dtype=dt, device=fnp.device(a))
        x = _LA.solve(fnp.subtract(eye, kron), fnp.reshape(q, batch + (n * n, 1)))
        return fnp.reshape(x, batch + (n, n))
    eye = _eye_like(a)
    shifted = a + eye
    b = _LA.solve(shifted, a - eye)
    left = _LA.solve(shifted, q)                      # (a + I)^-1 q
    c = _h(_LA.solve(shifted, _h(left))) * 2.0        # ... (a + I)^-H
    return _P.sylvester(b, _h(b), -c)


def sqrtm(A, disp=True, blocksize=64):
    """The principal square root ``X`` (``X @ X = A``, eigenvalues in the right half-plane)
    of a square matrix, or of each matrix of a stack.

    Differences from SciPy: a real matrix must have a real principal square root (no
    eigenvalue on the negative real axis): SciPy then returns a complex array, but here the
    result's dtype cannot depend on the values, so it raises ValueError (pass a complex
    matrix instead). NumPy arrays go through SciPy's Schur method; the other libraries
    through the Denman-Beavers iteration, which needs a nonsingular matrix with no
    eigenvalue on the negative real axis, even for complex input (else ValueError).
    ``disp=False`` returns ``(X, errest)`` with SciPy's ``errest = ||X X - A||_F^2 /
    ||A||_F`` (the square of the norm, as SciPy computes it); no message is printed
    otherwise. ``blocksize`` is accepted and has no effect. Integers become float64, float32
    stays float32. Differentiable to any order: ``dX`` solves the Sylvester equation
    ``X dX + dX X = dA``."""
    a = _general(A, "sqrtm")
    x = _P.sqrtm(a)
    if disp:
        return x
    res = _LA.matrix_norm(fnp.matmul(x, x) - a) ** 2 / _LA.matrix_norm(a)
    return x, res


_OUTPUTS = {"real": "real", "r": "real", "complex": "complex", "c": "complex"}


def schur(a, output="real", lwork=None, overwrite_a=False, sort=None, check_finite=True):
    """The Schur decomposition ``a = Z T Z^H``: ``(T, Z)``, or ``(T, Z, sdim)`` with
    ``sort`` (SciPy's 'lhp', 'rhp', 'iuc', 'ouc' or a callable; ``sdim`` the number of
    eigenvalues it selected, a 0-d int64 array per matrix rather than a Python int).

    ``output`` 'real' (a real input gives the real Schur form, 2x2 blocks for complex pairs)
    or 'complex'. Through SciPy, so NumPy arrays only: other libraries raise
    UnsupportedBackendError naming the backend. No derivative: differentiating raises
    NotImplementedError (the factors are not unique; see the primitive). Integers become
    float64, booleans float32 (SciPy's types)."""
    try:
        out = _OUTPUTS[output]
    except (KeyError, TypeError):
        raise ValueError(f"schur: output must be 'real', 'complex', 'r' or 'c'; got "
                         f"{output!r}") from None
    if sort is not None and not callable(sort) and sort not in ("lhp", "rhp", "iuc", "ouc"):
        raise ValueError(f"schur: sort must be None, a callable or one of 'lhp', 'rhp', "
                         f"'iuc', 'ouc'; got {sort!r}")
    a = _schur_general(a, "schur")
    t, z, sdim = _P.schur(a, out, sort)
    return (t, z) if sort is None else (t, z, sdim)


def _check_real_schur(t, eps):
    """ValueError where the known values of the stack ``t`` are not quasi-upper-triangular
    (SciPy's negligibility test for the subdiagonal; traced values are not checked)."""
    import numpy as _np
    from ..backends import backend_of
    from ..core import Tracer
    while isinstance(t, Tracer):  # a JVP tracer's value
        t = getattr(t, "primal", None)
    if t is None or _shape(t)[-1] < 2:
        return
    h = _np.asarray(backend_of(t).to_numpy(t))
    n = h.shape[-1]
    low = _np.tril(h, -2)
    if _np.any(low != 0):
        i, j = _np.argwhere(low != 0)[0][-2:]
        raise ValueError(f"rsf2csf: T is not a real Schur form: its entry ({i}, {j}) below "
                         f"the subdiagonal is not zero; pass T as scipy.linalg.schur(a) "
                         f"gives it (or use schur(a, output='complex')).")
    k = _np.arange(1, n)
    sub = _np.abs(h[..., k, k - 1]) > eps * (_np.abs(h[..., k - 1, k - 1])
                                             + _np.abs(h[..., k, k]))
    both = sub[..., 1:] & sub[..., :-1]
    if _np.any(both):
        m = int(_np.argwhere(both)[0][-1]) + 1
        raise ValueError(f"rsf2csf: T is not a real Schur form: its subdiagonal entries "
                         f"({m}, {m - 1}) and ({m + 1}, {m}) are both nonzero (two 2x2 "
                         f"blocks overlap); pass T as scipy.linalg.schur(a) gives it (or "
                         f"use schur(a, output='complex')).")


def rsf2csf(T, Z, check_finite=True):
    """The complex Schur form ``(T, Z)`` from a real one (as :func:`schur` gives it): each
    2x2 block of ``T`` whose subdiagonal entry is not negligible is triangularized by a
    complex Givens rotation (applied to ``T`` from both sides and to ``Z``), bottom block
    first, as SciPy does. Complex64 for float32 input, else complex128; batches of matrices
    are accepted. Made of elementary operations, so it runs on every backend and is
    differentiable where no block is on the edge of being split.

    A 2x2 block with real eigenvalues is triangularized too, with the eigenvalue LAPACK
    lists first (SciPy's) on top. ``T`` that is not quasi-upper-triangular (a nonzero
    entry below the subdiagonal, or two adjacent nonzero subdiagonal entries, as in a
    Hessenberg matrix) raises ValueError when its values are known (SciPy returns a matrix
    that is not triangular); traced values cannot be checked."""
    t, z = _convs((T, Z))
    t, z = _general(t, "rsf2csf"), _general(z, "rsf2csf")
    if "c" in (_dtype(t).kind, _dtype(z).kind):
        raise ValueError("rsf2csf: T and Z must be real (a real Schur form)")
    if _shape(t)[-1] != _shape(z)[-1]:
        raise ValueError(f"rsf2csf: T and Z must have the same size; got {_shape(t)} and "
                         f"{_shape(z)}")
    t, z = _batched(_common((t, z)))
    cdt = _dt.complex64 if _dtype(t) is _dt.float32 else _dt.complex128
    eps = float(fnp.finfo(_dtype(t)).eps)
    _check_real_schur(t, eps)
    t, z = fnp.astype(t, cdt), fnp.astype(z, cdt)
    n = _shape(t)[-1]
    rows, cols = _iota(t, n), _iota(t, n)
    for m in range(n - 1, 0, -1):
        p, q = t[..., m - 1, m - 1], t[..., m - 1, m]
        r, s_ = t[..., m, m - 1], t[..., m, m]
        split = fnp.abs(r) > eps * (fnp.abs(p) + fnp.abs(s_))
        half = (p - s_) * 0.5
        # mu: the block's eigenvalue (the one of positive imaginary part for a complex
        # pair) minus its last diagonal entry
        # (unsplit blocks: c = 1, s = 0, with safe values inside, so that no infinite
        # derivative of sqrt at 0 turns the unused branch's zero into nan)
        # LAPACK's first eigenvalue: the one of positive imaginary part, or for real ones
        # (a + d)/2 + sign(a - d) sqrt(disc) (sign(0) = +1), or d when q == 0 (the block
        # is lower triangular: dgebal's permutation puts d first). The blocks are real
        # here (quasi-triangular T), so the cases are told apart on real parts.
        one, zero = fnp.ones_like(r), fnp.zeros_like(r)
        hr = fnp.real(half)
        dr = fnp.where(split, hr * hr + fnp.real(q * r), fnp.ones_like(hr))
        root = fnp.sqrt(fnp.abs(dr))
        sgn = fnp.where(hr < 0, -fnp.ones_like(hr), fnp.ones_like(hr))
        mu_real = fnp.where(q == 0, zero, half + fnp.astype(sgn * root, cdt))
        mu_cplx = half + fnp.astype(root, cdt) * 1j
        mu = fnp.where(split, fnp.where(dr >= 0, mu_real, mu_cplx), one)
        r = fnp.where(split, r, zero)
        size = fnp.astype(fnp.sqrt(fnp.real(mu * fnp.conj(mu)) + fnp.real(r * fnp.conj(r))),
                          cdt)
        c = fnp.where(split, mu / size, one)
        s = r / size
        g = fnp.stack([fnp.stack([fnp.conj(c), s], axis=-1),
                       fnp.stack([-s, c], axis=-1)], axis=-2)          # (..., 2, 2)
        gh = _h(g)
        block = fnp.matmul(g, t[..., m - 1:m + 1, :])
        t = fnp.concat([t[..., :m - 1, :], block, t[..., m + 1:, :]], axis=-2)
        block = fnp.matmul(t[..., :, m - 1:m + 1], gh)
        t = fnp.concat([t[..., :, :m - 1], block, t[..., :, m + 1:]], axis=-1)
        block = fnp.matmul(z[..., :, m - 1:m + 1], gh)
        z = fnp.concat([z[..., :, :m - 1], block, z[..., :, m + 1:]], axis=-1)
        spot = (rows == m)[:, None] & (cols == m - 1)[None, :]
        t = fnp.where(spot, fnp.zeros_like(t), t)
    return t, z


def hessenberg(a, calc_q=False, overwrite_a=False, check_finite=True):
    """The upper Hessenberg form ``H`` of a square matrix (zero below the first
    subdiagonal), ``a = Q H Q^H``; ``(H, Q)`` with ``calc_q``.

    LAPACK's reduction (gehrd) written with whole-array operations: one Householder
    reflector per column with LAPACK's sign choice, so the values are SciPy's up to
    rounding, on every backend; batches of matrices are accepted. Booleans and integers of
    at most 16 bits become float32, wider integers float64 (SciPy's LAPACK types). A 1 x 1 or
    2 x 2 matrix is its own Hessenberg form, ``Q`` the identity (complex ones too, as SciPy:
    no reflector that makes the subdiagonal entry real).

    Differentiable (through the reflectors) where no column below the subdiagonal is zero
    as the reduction meets it (JAX's has no derivative at all). Where one is (a matrix
    already in Hessenberg form, a tridiagonal one, a triangular one) LAPACK's reflector is
    the identity, and perturbing that column away from zero switches to a reflection: ``H``
    and ``Q`` jump (SciPy's too), so no derivative exists there. Reverse mode then gives
    nan; forward mode gives the derivative along the perturbations that keep those columns
    zero (right for them only)."""
    a = _matrix(a, "hessenberg")
    n = _shape(a)[-1]
    cplx = _dtype(a).kind == "c"
    q = _eye_like(a) if calc_q else None
    rows = _iota(a, n)
    # (complex: one more reflector, which makes the last subdiagonal entry real, as LAPACK's;
    # not for n <= 2, which SciPy returns as they are)
    for k in range(n - 1 if cplx and n > 2 else n - 2):
        x = a[..., k + 1:, k]
        alpha, rest = x[..., 0], x[..., 1:]
        tau, tail = _larfg(alpha, rest, cplx, _dtype(a))
        # (_larfg's nan slope at an identity reflector is float64 for a float32 matrix, and
        # so was H: hessenberg(eye(3, dtype=float32)) and, as the slope is always there under
        # jit, jit(hessenberg) of every float32 matrix)
        tau = fnp.astype(tau, _dtype(a))
        v = fnp.concat([fnp.ones_like(alpha)[..., None], tail], axis=-1)
        w = fnp.concat([fnp.zeros_like(x[..., :1])] * (k + 1) + [v], axis=-1)[..., :, None]
        wh = _h(w)
        t = tau[..., None, None]
        # a <- H^H a H with H = I - tau w w^H (Q <- Q H)
        a = a - (fnp.conj(t) if cplx else t) * fnp.matmul(w, fnp.matmul(wh, a))
        a = a - t * fnp.matmul(fnp.matmul(a, w), wh)
        if calc_q:
            q = fnp.subtract(q, t * fnp.matmul(fnp.matmul(q, w), wh))
        # the column below the subdiagonal is zero (rounding aside)
        a = fnp.where((rows > k + 1)[:, None] & (rows == k)[None, :],
                      fnp.zeros_like(a), a)
    h = fnp.triu(a, k=-1)
    return (h, q) if calc_q else h


def polar(a, side="right", *, method=None, eps=None, max_iterations=None):
    """The polar decomposition ``a = u p`` (``side='right'``) or ``a = p u`` ('left') of an
    (M, N) matrix (or a stack): ``u`` (M, N) with orthonormal columns or rows, ``p``
    Hermitian positive semidefinite (N, N), or (M, M) for 'left'. From the reduced SVD
    ``a = W diag(s) V^H``: ``u = W V^H``, ``p = V diag(s) V^H`` ('left': ``W diag(s)
    W^H``).

    Where ``p`` is square in the short side of ``a`` ('right' with M >= N, 'left' with
    M <= N), the first derivatives are those of ``u = a (a^H a)^{-1/2}`` and ``p``, which
    need only ``s_i + s_j > 0`` (full rank): they are finite at repeated singular values (an
    orthogonal ``a``, the identity). Otherwise, and for higher orders, they are the SVD's
    (distinct nonzero singular values). JAX's ``method`` ('qdwh' or 'svd'), ``eps`` and
    ``max_iterations`` are accepted: the result is always the SVD's (equal up to rounding)."""
    if side not in ("right", "left"):
        raise ValueError(f"polar: side must be 'right' or 'left'; got {side!r}")
    if method not in (None, "qdwh", "svd"):
        raise ValueError(f"polar: method must be 'qdwh' or 'svd'; got {method!r}")
    a = _lapack_float(a)
    if len(_shape(a)) < 2:
        raise ValueError(f"polar: a must be a matrix (or a stack); got shape {_shape(a)}")
    m, n = _shape(a)[-2:]
    if side == "right" and m >= n:
        return _polar_tall()(a)
    if side == "left" and m <= n:
        # a = p u  <=>  a^H = u^H p: the right decomposition of the tall a^H
        u, p = _polar_tall()(_h(a))
        return _h(u), p
    return _polar_svd(a, side)


def _polar_svd(a, side):
    w, s, vh = svd(a, full_matrices=False)
    u = fnp.matmul(w, vh)
    s = fnp.astype(s, _dtype(a))[..., None, :]
    if side == "right":
        p = fnp.matmul(_h(vh) * s, vh)
    else:
        p = fnp.matmul(w * s, _h(w))
    return u, p


_polar_tall_fn = None


def _polar_tall():
    """``polar(a, 'right')`` for M >= N as a custom_jvp function (made once)."""
    global _polar_tall_fn
    if _polar_tall_fn is None:
        from ..custom import custom_jvp
        _polar_tall_fn = custom_jvp(lambda a: _polar_svd(a, "right"))
        _polar_tall_fn.defjvp(_polar_tall_jvp)
    return _polar_tall_fn


def _polar_tall_jvp(primals, tangents):
    # a = W S V^H (reduced), u = W V^H, p = V S V^H. With K = W^H da V:
    #   p dp + dp p = da^H a + a^H da  gives  V^H dp V = (S K + K^H S) / (s_i + s_j),
    #   du = (da - u dp) p^{-1}  gives  W^H du V = (K - K^H) / (s_i + s_j), plus, for a
    #   tall a, (I - W W^H) da V S^{-1} V^H outside W's columns.
    # Only sums s_i + s_j divide: no 1 / (s_i^2 - s_j^2) as in the SVD's own derivative.
    (a,), (da,) = primals, tangents
    w, s, vh = svd(a, full_matrices=False)
    v = _h(vh)
    u = fnp.matmul(w, vh)
    sc = fnp.astype(s, _dtype(a))
    p = fnp.matmul(fnp.multiply(v, sc[..., None, :]), vh)
    k = fnp.matmul(fnp.matmul(_h(w), da), v)
    kh = _h(k)
    # (fnp's functions, not operators: a raw array_api_strict array refuses a tracer operand)
    si, sj = sc[..., :, None], sc[..., None, :]
    denom = fnp.add(si, sj)
    x = fnp.divide(fnp.subtract(k, kh), denom)
    y = fnp.divide(fnp.add(fnp.multiply(si, k), fnp.multiply(kh, sj)), denom)
    du = fnp.matmul(fnp.matmul(w, x), vh)
    if _shape(a)[-2] > _shape(a)[-1]:
        rest = fnp.subtract(fnp.matmul(da, v), fnp.matmul(w, k))
        du = fnp.add(du, fnp.matmul(fnp.divide(rest, sj), vh))
    dp = fnp.matmul(fnp.matmul(v, y), vh)
    return (u, p), (du, dp)


def funm(A, func, disp=True):
    """``f(A)`` for a square matrix ``A`` (or a stack) and a scalar function ``f`` given as a
    vectorized ``func`` (called once with the eigenvalues, a complex array of the input's
    library): the complex Schur form ``A = Z T Z^H``, ``f(T)`` by Parlett's recurrence
    (one superdiagonal at a time), then ``Z f(T) Z^H``. As in SciPy a real ``A`` gives a real
    result where the imaginary part is negligible, else a complex one, and repeated
    eigenvalues make the recurrence inaccurate (the estimate says so). ``disp=False``
    returns ``(F, errest)`` (a float; under ``jit`` or ``vmap`` a 0-d array); with
    ``disp=True`` no message is printed. Goes through :func:`schur`: NumPy arrays only and
    no derivative (differentiating raises NotImplementedError). Real input runs eagerly
    only (whether the result is real is read from its values, which ``jit`` and ``vmap``
    do not have: ConcretizationError saying so); complex input also under ``jit`` and
    ``vmap``. ``func`` must return an array of the eigenvalues' shape (else ValueError)."""
    a = _schur_general(A, "funm")
    try:
        t, z = schur(a, output="complex")
    except NotImplementedError as e:
        raise NotImplementedError(f"funm goes through the Schur decomposition, so: {e}") from e
    cdt = _dtype(t)
    n = _shape(t)[-1]
    diag = _LA.diagonal(t)
    fd = fnp.asarray(func(diag))
    if _shape(fd) != _shape(diag):
        raise ValueError(f"funm: func must be vectorized: called with the eigenvalues (an "
                         f"array of shape {_shape(diag)}), it must return one value for each, "
                         f"of that shape; got shape {_shape(fd)}")
    f = _P.diag_embed(fnp.astype(fd, cdt))
    eps = float(fnp.finfo(cdt).eps)
    gaps = []
    for p in range(1, n):
        ti, tj = diag[..., :n - p], diag[..., p:]
        # T F = F T on superdiagonal p, F's entries there still zero:
        # F_ij (T_jj - T_ii) = (T F - F T)_ij
        num = _LA.diagonal(fnp.matmul(t, f) - fnp.matmul(f, t), offset=p)
        den = tj - ti
        gaps.append(fnp.abs(den))
        # (a zero gap, a repeated eigenvalue: the numerator undivided, as SciPy)
        f = f + _P.diag_embed(fnp.where(den == 0, num, num / fnp.where(
            den == 0, fnp.ones_like(den), den)), p, n, n)
    out = fnp.matmul(fnp.matmul(z, f), _h(z))
    if _dtype(a).kind != "c":
        # SciPy's rule: real when every imaginary part is within an absolute tolerance,
        # 1e6 eps of float64 for complex128, 1e3 eps of float32 for complex64
        tol = 1e6 * eps if _dtype(t) is _dt.complex128 else \
            1e3 * float(fnp.finfo(_dt.float32).eps)
        try:
            real = not bool(fnp.any(fnp.abs(fnp.imag(out)) > tol))
        except ConcretizationError as e:
            raise ConcretizationError(
                "funm: for a real A the result is real or complex as its values say (SciPy's "
                "rule), which jit and vmap do not know. Pass a complex A (astype(A, "
                "complex128)): the result is then always complex (as jax.scipy.linalg.funm "
                "gives it for any A), also under jit and vmap; take fnp.real of it where you "
                "know it is real.") from e
        if real:
            out = fnp.real(out)
    if disp:
        return out
    tol = eps
    if gaps:
        smallest = fnp.min(fnp.concat([fnp.reshape(g, (-1,)) for g in gaps]))
        upper = fnp.max(fnp.sum(fnp.abs(fnp.triu(t, k=1)), axis=-2))
        err = fnp.minimum(fnp.maximum(tol * upper / smallest, tol), 1.0)
    else:
        err = fnp.asarray(tol)
    try:
        return out, float(err)
    except ConcretizationError:  # (jit, vmap: a 0-d array, as jax.scipy.linalg.funm's)
        return out, err


def expm_frechet(A, E, method=None, compute_expm=True, check_finite=True):
    """The Frechet derivative of the matrix exponential at ``A`` in the direction ``E``,
    ``L = d/dt expm(A + t E)`` at ``t = 0``: ``(expm(A), L)``, or ``L`` alone without
    ``compute_expm``.

    Computed as the forward-mode derivative of :func:`expm` (its Pade approximant and
    squarings, differentiated exactly), whatever ``method`` ('SPS', 'blockEnlarge' or None)
    names; float64 (complex128) as SciPy gives it; stacks of matrices accepted. Itself
    differentiable in ``A`` and ``E`` to any order."""
    if method not in (None, "SPS", "blockEnlarge"):
        raise ValueError(f"expm_frechet: unknown method {method!r}; use 'SPS', "
                         f"'blockEnlarge' or None")
    from ..api import jvp
    a, e = _convs((A, E))
    a, e = fnp.asarray(a), fnp.asarray(e)
    if _shape(a) != _shape(e) or len(_shape(a)) < 2 or _shape(a)[-1] != _shape(a)[-2]:
        raise ValueError(f"expm_frechet: A and E must be square matrices of one shape; got "
                         f"{_shape(a)} and {_shape(e)}")
    dt = _dt.complex128 if "c" in (_dtype(a).kind, _dtype(e).kind) else _dt.float64
    a, e = fnp.astype(a, dt), fnp.astype(e, dt)
    value, tangent = jvp(expm, (a,), (e,))
    return (value, tangent) if compute_expm else tangent


_SELECT = {"a": "a", "all": "a", 0: "a", "v": "v", "value": "v", 1: "v", "i": "i",
           "index": "i", 2: "i"}


def eigh_tridiagonal(d, e, eigvals_only=False, select="a", select_range=None,
                     check_finite=True, tol=0.0, lapack_driver="auto", *, key=None):
    """Eigenvalues (ascending) and eigenvectors of the real symmetric tridiagonal matrix with
    diagonal ``d`` (N,) and off-diagonal ``e`` (N-1,) (stacks: leading axes).

    Through :func:`eigh` of the assembled matrix (so on every backend, differentiable in
    ``d`` and ``e`` where the eigenvalues are distinct); the eigenvectors' signs are the
    dense solver's and may differ from SciPy's (LAPACK's stemr). ``select`` 'a', 'i' (the
    eigenvalues of indices ``select_range[0] .. select_range[1]``) or 'v' (those in the
    half-open interval ``(lo, hi]``: a result whose size depends on the values, so not under
    ``jit``/``vmap``). ``tol``, ``lapack_driver`` and JAX's ``key`` are accepted and have
    no effect.
    Complex input raises, as in SciPy."""
    if lapack_driver not in ("auto", "stemr", "stebz", "sterf", "stev"):
        raise ValueError(f"eigh_tridiagonal: lapack_driver must be 'auto', 'stemr', 'stebz', "
                         f"'sterf' or 'stev'; got {lapack_driver!r}")
    try:
        sel = _SELECT[select]
    except (KeyError, TypeError):
        raise ValueError(f"eigh_tridiagonal: select must be 'a', 'v' or 'i'; got "
                         f"{select!r}") from None
    d, e = _convs((d, e))
    d, e = fnp.asarray(d), fnp.asarray(e)
    if "c" in (_dtype(d).kind, _dtype(e).kind):
        raise TypeError("eigh_tridiagonal: only real arrays are supported (as in SciPy)")
    if len(_shape(d)) < 1 or _shape(e)[-1:] != (max(_shape(d)[-1] - 1, 0),):
        raise ValueError(f"eigh_tridiagonal: d must be (..., N) and e (..., N-1); got "
                         f"{_shape(d)} and {_shape(e)}")
    d, e = _common((_float(d), _float(e)))
    batch = fnp.broadcast_shapes(_shape(d)[:-1], _shape(e)[:-1])
    d = fnp.broadcast_to(d, batch + _shape(d)[-1:])
    e = fnp.broadcast_to(e, batch + _shape(e)[-1:])
    n = _shape(d)[-1]
    m = _P.diag_embed(d)
    if n > 1:
        m = fnp.add(m, fnp.add(_P.diag_embed(e, 1, n, n), _P.diag_embed(e, -1, n, n)))
    w, v = _LA.eigh(m)
    if sel == "i":
        lo, hi = (int(k) for k in select_range)
        if not 0 <= lo <= hi < n:
            raise ValueError(f"eigh_tridiagonal: select_range {select_range!r} must be "
                             f"indices 0 <= lo <= hi < {n}")
        w, v = w[..., lo:hi + 1], v[..., :, lo:hi + 1]
    elif sel == "v":
        lo, hi = select_range
        if len(batch):
            raise ValueError("eigh_tridiagonal: select='v' takes one matrix, not a stack")
        keep = fnp.nonzero((w > lo) & (w <= hi))[0]
        w, v = fnp.take(w, keep, axis=-1), fnp.take(v, keep, axis=-1)
    return w if eigvals_only else (w, v)


def qr_multiply(a, c, mode="right", pivoting=False, conjugate=False, overwrite_a=False,
                overwrite_c=False):
    """The product of ``Q`` of the (economic) QR decomposition of ``a`` (M, N) with ``c``:
    ``(c @ Q, R)`` for ``mode='right'`` (``c`` (..., M) or (P, M)), ``(Q @ c, R)`` for
    'left' (``c`` (K,) or (K, P), ``K = min(M, N)``); ``conj(Q)`` with ``conjugate``. ``R``
    is (K, N). Derivatives as :func:`qr`'s (M >= N). ``pivoting=True`` factors
    ``a[:, P]`` as :func:`qr` does and returns ``(product, R, P)``."""
    if mode not in ("left", "right"):
        raise ValueError(f"qr_multiply: mode must be 'left' or 'right'; got {mode!r}")
    a, c = _convs((a, c))
    a = _lapack_float(a)
    c = fnp.asarray(c)
    if len(_shape(a)) != 2:
        raise ValueError(f"qr_multiply: a must be a matrix; got shape {_shape(a)}")
    dt = fnp.result_type(a, _lapack_float(c))
    a, c = fnp.astype(a, dt), fnp.astype(c, dt)
    q, r, *piv = qr(a, mode="economic", pivoting=pivoting)
    if conjugate:
        q = fnp.conj(q)
    m, k = _shape(q)
    vec = len(_shape(c)) == 1
    if mode == "right":
        if _shape(c)[-1] != m:
            raise ValueError(f"qr_multiply: c must have {m} columns for mode='right'; got "
                             f"shape {_shape(c)}")
        return (fnp.matmul(c, q), r, *piv)
    if _shape(c)[0] != k:
        raise ValueError(f"qr_multiply: c must have {k} rows for mode='left'; got shape "
                         f"{_shape(c)}")
    out = fnp.matmul(q, c[:, None] if vec else c)
    return ((out[:, 0] if vec else out), r, *piv)


# -- special matrices ----------------------------------------------------------------------


def _gather(vals, index):
    """The matrices ``vals[..., index]`` for a NumPy integer matrix ``index`` (one gather on
    the values' library and device: differentiable in ``vals``)."""
    import numpy as _np
    index = _np.asarray(index, dtype=_np.int64)
    shape = _shape(vals)[:-1] + index.shape
    if index.size == 0:
        return fnp.reshape(vals[..., :0], shape)
    (idx,) = _convs((index.reshape(-1).tolist(), vals))[:1]
    return fnp.reshape(fnp.take(vals, idx, axis=-1), shape)


def _vector(x):
    x = fnp.asarray(x)
    return fnp.reshape(x, (1,)) if not _shape(x) else x


def circulant(c):
    """The circulant matrix whose first column is ``c``: ``C[i, j] = c[(i - j) mod n]``;
    leading axes of ``c`` are a batch (SciPy >= 1.15). ``c``'s dtype; differentiable in
    ``c``."""
    import numpy as _np
    c = _vector(c)
    n = _shape(c)[-1]
    i = _np.arange(n)
    return _gather(c, (i[:, None] - i[None, :]) % max(n, 1))


def companion(a):
    """The companion matrix of the polynomial with coefficients ``a`` (highest degree
    first, ``a[0] != 0``, at least two): first row ``-a[1:] / a[0]``, ones below the
    diagonal; (N-1, N-1). Leading axes are a batch. Integers become float64. A zero
    ``a[0]`` gives infinities (SciPy raises; the check would read the values). Booleans
    are refused (TypeError), as SciPy's."""
    a = _vector(a)
    n = _shape(a)[-1]
    if n < 2:
        raise ValueError(f"companion: the length of a must be at least 2; got {n}")
    if _dtype(a).kind == "b":
        raise TypeError("companion: the coefficients a are booleans, which SciPy's companion "
                        "refuses too; cast them to a number type first (astype(a, float64))")
    if _dtype(a).kind not in "fc":
        a = fnp.astype(a, _dt.float64)
    first = -a[..., 1:] / a[..., :1]
    vals = fnp.concat([fnp.zeros_like(a[..., :1]), fnp.ones_like(a[..., :1]), first], axis=-1)
    import numpy as _np
    idx = _np.zeros((n - 1, n - 1), dtype=_np.int64)
    idx[0, :] = _np.arange(n - 1) + 2
    idx[_np.arange(1, n - 1), _np.arange(n - 2)] = 1
    return _gather(vals, idx)


def convolution_matrix(a, n, mode="full"):
    """The matrix ``A`` with ``A @ v == numpy.convolve(a, v, mode)`` for ``v`` of length
    ``n``: Toeplitz, with ``a`` down its columns; ``mode`` 'full' ((m + n - 1, n)),
    'same' ((max(m, n), n)) or 'valid' ((max(m, n) - min(m, n) + 1, n)). Leading axes of
    ``a`` are a batch; ``a``'s dtype; differentiable in ``a``."""
    import numpy as _np
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"convolution_matrix: mode must be 'full', 'same' or 'valid'; got "
                         f"{mode!r}")
    if int(n) != n or n <= 0:
        raise ValueError(f"convolution_matrix: n must be a positive integer; got {n!r}")
    n = int(n)
    a = fnp.asarray(a)
    if not _shape(a) or _shape(a)[-1] == 0:
        raise ValueError("convolution_matrix: a must be a non-empty (batch of) 1-d arrays")
    m = _shape(a)[-1]
    rows = _np.arange(m + n - 1)
    if mode == "same":
        start = (min(m, n) - 1) // 2
        rows = rows[start:start + max(m, n)]
    elif mode == "valid":
        rows = rows[min(m, n) - 1:max(m, n)]
    lag = rows[:, None] - _np.arange(n)[None, :]
    idx = _np.where((lag >= 0) & (lag < m), lag, m)
    vals = fnp.concat([a, fnp.zeros_like(a[..., :1])], axis=-1)
    return _gather(vals, idx)


def dft(n, scale=None, *, dtype=None):
    """The (n, n) discrete Fourier transform matrix ``W[j, k] = exp(-2 pi i j k / n)``,
    divided by ``sqrt(n)`` for ``scale='sqrtn'`` or by ``n`` for 'n'; complex128 (or JAX's
    ``dtype``, a complex one), on the default library (there is no input array). The phases
    are reduced modulo ``n`` before the exponential (SciPy takes powers): equal up to
    rounding."""
    import numpy as _np
    if scale not in (None, "sqrtn", "n"):
        raise ValueError(f"dft: scale must be None, 'sqrtn' or 'n'; got {scale!r}")
    if dtype is not None:
        dt = _dt.as_dtype(dtype)
        if dt.kind != "c":
            raise ValueError(f"dft: dtype must be a complex floating-point type; got {dt.name}")
        return fnp.astype(dft(n, scale), dt)
    n = int(n)
    k = _np.arange(n)
    w = _np.exp(-2j * _np.pi * ((k[:, None] * k[None, :]) % max(n, 1)) / max(n, 1))
    if scale == "sqrtn":
        w = w / _np.sqrt(n)
    elif scale == "n":
        w = w / n
    return fnp.asarray(w)


def fiedler(a):
    """The symmetric Fiedler matrix ``F[i, j] = |a[i] - a[j]|`` (leading axes a batch;
    ``a``'s dtype). Differentiable in ``a`` (where the entries differ)."""
    a = _vector(a)
    return fnp.abs(a[..., :, None] - a[..., None, :])


def fiedler_companion(a):
    """The Fiedler companion matrix of the polynomial with coefficients ``a`` (highest
    first, ``a[0] != 0``): pentadiagonal, (N-1, N-1), with the same eigenvalues as
    :func:`companion`'s; ``-a[1] / a[0]`` in the corner, the next quotients on the first
    superdiagonal and subdiagonal in turn, ones two places off the diagonal. Leading axes
    are a batch; integers become float64; differentiable in ``a``. A zero ``a[0]`` gives
    infinities (SciPy raises)."""
    import numpy as _np
    a = _vector(a)
    n = _shape(a)[-1]
    if n < 2:
        raise ValueError(f"fiedler_companion: the length of a must be at least 2; got {n}")
    if _dtype(a).kind not in "fc":
        a = fnp.astype(a, _dt.float64)
    c = -a[..., 1:] / a[..., :1]                       # index 2 + j in vals holds c[j]
    vals = fnp.concat([fnp.zeros_like(a[..., :1]), fnp.ones_like(a[..., :1]), c], axis=-1)
    k = n - 1
    idx = _np.zeros((k, k), dtype=_np.int64)
    idx[0, 0] = 2
    for j in range(1, k):           # c[j] (0-based): above the diagonal for odd j, else below
        idx[(j - 1, j) if j % 2 else (j, j - 1)] = 2 + j
    for r in range(k):              # ones two places right (even rows) or left (odd rows)
        col = r + 2 if r % 2 == 0 else max(r - 2, 0)
        if col < k:
            idx[r, col] = 1
    return _gather(vals, idx)


def hadamard(n, dtype=int):
    """The (n, n) Hadamard matrix of Sylvester's construction (``n`` a power of two),
    entries +-1 of ``dtype`` (Python's ``int``: int64, ``float``: float64); on the default
    library."""
    import numpy as _np
    if n < 1 or (int(n) & (int(n) - 1)) or int(n) != n:
        raise ValueError(f"hadamard: n must be a positive integer and a power of 2; got "
                         f"{n!r}")
    h = _np.ones((1, 1), dtype=_np.int64)
    while h.shape[0] < n:
        h = _np.block([[h, h], [h, -h]])
    return fnp.asarray(h.astype(_np.dtype(dtype)))


def hankel(c, r=None):
    """The Hankel matrix with first column ``c`` and last row ``r`` (``r[0]`` ignored; zeros
    by default): ``H[i, j] = c[i + j]`` while in range, then ``r``. ``c`` and ``r`` are
    flattened (as SciPy 1.17 does, which warns that it will batch them instead); their
    common dtype; differentiable in both."""
    import numpy as _np
    c = fnp.reshape(fnp.asarray(c), (-1,))
    r = fnp.zeros_like(c) if r is None else fnp.reshape(_convs((r, c))[0], (-1,))
    c, r = _convs((c, r))
    c, r = _common((c, r))
    m, n = _shape(c)[0], _shape(r)[0]
    vals = fnp.concat([c, r[1:]])
    i = _np.arange(m)[:, None] + _np.arange(n)[None, :]
    if m == 0 or n == 0:
        return fnp.reshape(vals[:0], (m, n))
    return _gather(vals, i)


def helmert(n, full=False):
    """The Helmert matrix: (n - 1, n) rows orthonormal and orthogonal to the ones vector
    (row ``k`` has ``k`` entries ``1 / sqrt(k (k + 1))`` and then ``-k / sqrt(k (k +
    1))``); with ``full`` the (n, n) orthogonal matrix whose first row is ``1 / sqrt(n)``.
    float64, on the default library."""
    import numpy as _np
    n = int(n)
    h = _np.tril(_np.ones((n, n)), -1) - _np.diag(_np.arange(n, dtype=_np.float64))
    d = _np.arange(n) * _np.arange(1, n + 1)
    h[0] = 1.0
    d[0] = n
    h = h / _np.sqrt(d)[:, None]
    return fnp.asarray(h if full else h[1:])


def hilbert(n):
    """The (n, n) Hilbert matrix ``1 / (i + j + 1)``; float64, on the default library."""
    import numpy as _np
    i = _np.arange(int(n), dtype=_np.float64)
    return fnp.asarray(1.0 / (i[:, None] + i[None, :] + 1.0))


def _exact(rows, dtype, limit, name, n):
    import numpy as _np
    if n > limit:
        raise ValueError(f"{name}: exact=True with n > {limit} has entries beyond "
                         f"{_np.dtype(dtype).name} (SciPy returns an object array of Python "
                         f"integers, which array libraries do not hold); use exact=False")
    return _np.array(rows, dtype=dtype).reshape(n, n)


def invhilbert(n, exact=False):
    """The inverse of the (n, n) Hilbert matrix, from its closed form in binomial
    coefficients: float64, or int64 with ``exact`` (n <= 14: beyond, the integers overflow
    int64 and ValueError is raised where SciPy returns an object array); on the default
    library."""
    from math import comb
    import numpy as _np
    n = int(n)
    rows = [(-1) ** (i + j) * (i + j + 1) * comb(n + i, n - j - 1) * comb(n + j, n - i - 1)
            * comb(i + j, i) ** 2 for i in range(n) for j in range(n)]
    if exact:
        return fnp.asarray(_exact(rows, _np.int64, 14, "invhilbert", n))
    return fnp.asarray(_np.array([float(v) for v in rows], dtype=_np.float64).reshape(n, n))


_KINDS = ("symmetric", "upper", "lower")


def _pascal_entries(n, kind, inverse):
    from math import comb
    if kind not in _KINDS:
        raise ValueError(f"kind must be 'symmetric', 'upper' or 'lower'; got {kind!r}")
    if not inverse:
        if kind == "symmetric":
            return [comb(i + j, i) for i in range(n) for j in range(n)]
        low = [comb(i, j) for i in range(n) for j in range(n)]
    else:
        lowinv = [[(-comb(i, j) if (i - j) % 2 else comb(i, j)) for j in range(n)]
                  for i in range(n)]
        if kind == "symmetric":   # (L L^T)^-1 = L^-T L^-1
            return [sum(lowinv[k][i] * lowinv[k][j] for k in range(n))
                    for i in range(n) for j in range(n)]
        low = [v for row in lowinv for v in row]
    if kind == "lower":
        return low
    return [low[j * n + i] for i in range(n) for j in range(n)]


def pascal(n, kind="symmetric", exact=True):
    """The (n, n) Pascal matrix: 'symmetric' ``C(i + j, i)``, 'lower' ``C(i, j)``, 'upper'
    its transpose; uint64 with ``exact`` (n <= 34; larger raises ValueError where SciPy
    returns an object array), float64 without; on the default library."""
    import numpy as _np
    n = int(n)
    rows = _pascal_entries(n, kind, False)
    if exact:
        return fnp.asarray(_exact(rows, _np.uint64, 34, "pascal", n))
    return fnp.asarray(_np.array([float(v) for v in rows], dtype=_np.float64).reshape(n, n))


def invpascal(n, kind="symmetric", exact=True):
    """The inverse of :func:`pascal`'s matrix (integers: ``(-1)^(i-j) C(i, j)`` for 'lower',
    its transpose for 'upper', their product for 'symmetric'); int64 with ``exact`` (n <=
    34, as :func:`pascal`), float64 without; on the default library."""
    import numpy as _np
    n = int(n)
    rows = _pascal_entries(n, kind, True)
    if exact:
        return fnp.asarray(_exact(rows, _np.int64, 34, "invpascal", n))
    return fnp.asarray(_np.array([float(v) for v in rows], dtype=_np.float64).reshape(n, n))


def leslie(f, s):
    """The Leslie matrix: first row the fecundities ``f`` (N,), subdiagonal the survival
    coefficients ``s`` (N-1,), zeros elsewhere; leading axes a batch; the common dtype of
    ``f`` and ``s``; differentiable in both."""
    import numpy as _np
    f, s = _convs((f, s))
    f, s = _vector(f), _vector(s)
    n = _shape(f)[-1]
    if n < 2 or _shape(s)[-1] != n - 1:
        raise ValueError(f"leslie: f must have length N >= 2 and s length N - 1; got "
                         f"{_shape(f)} and {_shape(s)}")
    f, s = _common((f, s))
    batch = fnp.broadcast_shapes(_shape(f)[:-1], _shape(s)[:-1])
    f = fnp.broadcast_to(f, batch + (n,))
    s = fnp.broadcast_to(s, batch + (n - 1,))
    vals = fnp.concat([fnp.zeros_like(f[..., :1]), f, s], axis=-1)
    idx = _np.zeros((n, n), dtype=_np.int64)
    idx[0, :] = 1 + _np.arange(n)
    idx[_np.arange(1, n), _np.arange(n - 1)] = 1 + n + _np.arange(n - 1)
    return _gather(vals, idx)


__all__ += ["solve_banded"]


def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """The solution ``x`` of ``a @ x = b`` for a banded ``a`` given in SciPy's band storage:
    ``l_and_u = (l, u)`` the numbers of sub- and super-diagonals, ``ab`` of shape
    ``(l + u + 1, M)`` with ``ab[u + i - j, j] = a[i, j]`` (the other entries of ``ab`` are
    not read); ``b`` is ``(M,)`` or ``(M, K)``. Solved as the dense matrix (``O(M^2)``
    memory; SciPy's banded LU is ``O(M (l + u))``), differentiable in ``ab`` and ``b``.
    The dtype is SciPy's: booleans and integers count as float64 (float32 ``ab`` with an
    integer ``b`` gives float64, complex64 with one complex128)."""
    import numpy as _np
    l, u = (int(v) for v in l_and_u)
    if l < 0 or u < 0:
        raise ValueError(f"solve_banded: l and u must not be negative; got {(l, u)}")
    ab, b = _convs((ab, b))
    # (SciPy's LAPACK type of ab and b together, where a boolean or integer array is double;
    # solve's own rule would make float32 ab with a bool or int16 b float32)
    ab, b = _float(fnp.asarray(ab)), _float(fnp.asarray(b))
    s = _shape(ab)
    if len(s) != 2 or s[0] != l + u + 1:
        raise ValueError(f"solve_banded: ab must have shape (l + u + 1, M) = ({l + u + 1}, M) "
                         f"for (l, u) = {(l, u)}; got {s}")
    n = s[1]
    sb = _shape(b)
    if not sb or (sb[0] if len(sb) == 1 else sb[-2]) != n:
        raise ValueError(f"solve_banded: b must have shape (M,) or (M, K) with M = {n} (ab's "
                         f"columns); got {sb}")
    cols = _np.arange(n)
    rows = u + cols[:, None] - cols[None, :]
    # (index 0 is a zero put in front of ab's flattened entries: the entries outside the band)
    index = _np.where((rows >= 0) & (rows <= l + u), 1 + rows * n + cols[None, :], 0)
    vals = fnp.concat([fnp.zeros_like(ab[0, :1]), fnp.reshape(ab, (-1,))], axis=-1)
    return solve(_gather(vals, index), b)
