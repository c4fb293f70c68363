"""``functrans.numpy.linalg``: the Array API linear algebra extension, differentiable.

Derivatives follow the usual conventions (as in JAX): ``cholesky`` and ``eigh`` read the
symmetric (Hermitian) part of a perturbation; ``eigh`` and ``eig`` need distinct eigenvalues
and ``svd`` distinct non-zero singular values (the derivatives of the vectors are infinite at ties);
``qr`` is differentiable for matrices with at least as many rows as columns; ``det`` is
differentiable everywhere; ``slogdet`` gives infinities and nans at singular matrices (see
there); ``inv`` and ``solve`` need invertible matrices; ``pinv`` is differentiated at
constant rank; ``vector_norm`` and ``matrix_norm`` have a NaN derivative at the zero vector
(matrix).
"""

from __future__ import annotations

import builtins
import math
import numbers
import operator
from collections import namedtuple

import numpy as _np

from .. import dtypes as _dt
from ..core import Tracer as _Tracer, concrete_behind as _concrete_behind
from ..errors import ConcretizationError, ShapeError
from ..primitives import elementwise as _ew
from ..primitives import linalg as _la
from ..primitives import structural as _st
from ._base import broadcast_shapes as _broadcast_shapes
from ._base import (_no_out, _as_operand, _dtype, _normalize_axes, _normalize_axis, _numpy_scalars_moved,
                    _promote_arrays, _shape, matmul, matrix_transpose, max, min, multiply,
                    _unstacked, pow, reshape, sqrt)
from ._base import where as _where
from ._elementwise import abs, conj, imag as _imag, real
from ._manipulation import moveaxis as _moveaxis
from ._statistics import any as _any
from ._statistics import sum

__all__ = ["cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
           "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv",
           "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace", "vecdot",
           "vector_norm",
           # NumPy's names beyond the standard
           "norm", "multi_dot", "cond", "lstsq", "eig", "eigvals", "tensorinv", "tensorsolve",
           "LinAlgError"]

#: The error a singular or non-converging matrix raises: NumPy's ``numpy.linalg.LinAlgError``
#: itself, which every backend raises (array-api-strict and CuPy raise NumPy's; the torch
#: backend raises a subclass of it that is also ``torch.linalg.LinAlgError``), so
#: ``except fnp.linalg.LinAlgError`` catches it whatever the arrays.
LinAlgError = _np.linalg.LinAlgError

EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])
QRResult = namedtuple("QRResult", ["Q", "R"])
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


def _float(x):
    x = _as_operand(x)
    return x if _dtype(x).kind in "fc" else _st.convert_element_type(x, _dt.float64)


def _square(x, what):
    s = _shape(x)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ShapeError(f"{what} needs a (stack of) square matrices; got shape {s}")
    return x


def cholesky(a, *, upper=False, symmetrize_input=True):
    """The Cholesky factor of a symmetric (Hermitian) positive-definite matrix: lower
    triangular ``L`` with ``x = L L^H`` (or upper ``U = L^H`` if ``upper``).
    ``symmetrize_input`` (``jax.numpy``'s, True by default as there): factor ``(x + x^H) /
    2``, so that the derivative, which moves ``x`` only within the Hermitian matrices, is
    that of the values computed; the same as NumPy's for a Hermitian ``x`` (NumPy reads the
    lower triangle of any other). False reads the lower triangle, and then its derivative
    assumes the perturbations Hermitian too."""
    low = _la.cholesky(_symmetrized(a, symmetrize_input, None, "cholesky"))
    return matrix_transpose(conj(low)) if upper else low


def det(a):
    """The determinant. Its derivative ``tr(adj(x) dx)`` (the adjugate, ``det(x) x^{-1}``
    where ``x`` is invertible) holds at singular ``x`` too, as JAX's, and so do those of
    every order (since session 49; the third and higher were NaN or wrong at singular and
    ill-conditioned matrices): adj's k-th derivative is one multilinear map computed at
    ``x`` itself, from ``x^{-1}`` where ``x`` is well conditioned (1-norm condition number
    below 1e4), else from products of the singular values in the basis of the SVD
    ``x = U S V^H`` (no division; its cost grows as ``(k + 1)! n^(k + 1)`` per matrix)."""
    return _la.det(_square(_float(a), "det"))


def slogdet(a, *, method=None):
    """Sign and natural log of the absolute value of the determinant. At a singular ``x``
    (sign 0, log -inf) the log has no derivative (it is unbounded below near ``x``); its
    derivative there is the limit of the one nearby, ``inv(x)^T = adj(x)^T / det(x)``, as
    ``det(x) -> 0`` from above (from inside the positive definite cone for a singular
    covariance): ``inf`` with the signs of the cofactors, ``nan`` where a cofactor is 0 (all
    of them at rank ``n - 2`` or less), so a tangent ``tr(adj(x) dx) * inf``; JAX's values
    are infinities and nans too, the infinities' signs those of its LU's zero pivot. For
    complex ``x`` the phase of that limit is undefined: ``nan`` (as JAX's). The sign of a
    real ``x`` has derivative 0. The same under ``jit`` and ``vmap``: each matrix is
    tested when the derivative runs (where its inverse is refused). The second derivative
    there is the limit ``-tr(adj(x) dy adj(x) dx) * inf``. JAX's ``method`` ('lu', the
    default, or 'qr') is accepted: both give this LU-based result (as JAX, 'qr' is refused
    for complex input)."""
    if method not in (None, "lu", "qr"):
        raise ValueError(f"slogdet: method must be None, 'lu' or 'qr'; got {method!r}")
    if method == "qr" and _dtype(_as_operand(a)).kind == "c":
        raise NotImplementedError("slogdet: method='qr' is not implemented for complex input "
                                  "(as in JAX); use method='lu'")
    return SlogdetResult(*_la.slogdet(_square(_float(a), "slogdet")))


def inv(a):
    """The inverse matrix."""
    return _la.inv(_square(_float(a), "inv"))


def solve(a, b):
    """The solution ``y`` of ``a @ y = b`` (``b`` of shape ``(..., M, K)``, or ``(M,)``
    for a single vector); batch dimensions broadcast."""
    return _solve_with(_la.solve, a, b, "solve")


def _solve_triangular(a, b, lower, divide=False):
    """:func:`solve` for an ``a`` that is zero outside its lower (upper) triangle: a
    triangular solve (functrans.scipy.linalg masks ``a`` first). A zero on the diagonal
    raises LinAlgError, or with ``divide`` is divided by (inf/nan, as LAPACK's getrs)."""
    return _solve_with(lambda x, y: _la.triangular_solve(x, y, lower, divide), a, b,
                       "solve_triangular")


def _solve_with(bind, x1, x2, name):
    x1, x2 = _float(x1), _float(x2)
    (x1, x2), _ = _promote_arrays([x1, x2])
    _square(x1, name)
    s1, s2 = _shape(x1), _shape(x2)
    if not s2:
        raise ShapeError(f"{name}: x2 must be a vector (M,) or a (stack of) matrices (..., M, "
                         f"K); got a 0-d array (for x1 of shape {s1})")
    vec = len(s2) == 1
    if vec:
        x2, s2 = _st.reshape(x2, s2 + (1,)), s2 + (1,)
    if s2[-2] != s1[-1]:
        raise ShapeError(f"{name}: x1 of shape {s1} does not match x2 of shape {s2}")
    batch = _broadcast_shapes(s1[:-2], s2[:-2])
    out = bind(_st.broadcast_to(x1, batch + s1[-2:]), _st.broadcast_to(x2, batch + s2[-2:]))
    return _st.reshape(out, batch + (s1[-1],)) if vec else out


def _uplo(x, UPLO, what):
    """``x`` with its upper triangle read as NumPy's ``UPLO='U'`` reads it: the conjugate
    transpose, whose lower triangle it is (the default 'L' reads the lower one)."""
    if UPLO not in ("L", "U"):
        raise ValueError(f"{what}: UPLO must be 'L' or 'U'; got {UPLO!r}")
    x = _square(_float(x), what)
    return matrix_transpose(conj(x)) if UPLO == "U" else x


def _symmetrized(x, symmetrize_input, UPLO, what):
    """``x`` as the Hermitian decompositions read it. ``symmetrize_input`` (``jax.numpy``'s):
    True decomposes ``(x + x^H) / 2``: both triangles count, so the derivative (which moves
    ``x`` only within the Hermitian matrices) is that of the values, and for a Hermitian
    ``x`` the values are NumPy's exactly. False reads the triangle ``UPLO`` names, as NumPy;
    the derivative then assumes the perturbations Hermitian too. None (the default): True,
    unless ``UPLO`` is given (a NumPy call asking for one triangle)."""
    if symmetrize_input is None:
        symmetrize_input = UPLO is None
    if type(symmetrize_input) is not bool:
        raise TypeError(f"{what}: symmetrize_input must be True or False; got "
                        f"{symmetrize_input!r}")
    if not symmetrize_input:
        return _uplo(x, "L" if UPLO is None else UPLO, what)
    if UPLO not in (None, "L", "U"):
        raise ValueError(f"{what}: UPLO must be 'L' or 'U'; got {UPLO!r}")
    x = _square(_float(x), what)
    # x + (x^H / 2 - x / 2), not (x + x^H) / 2: exactly x for a Hermitian x (its real
    # diagonal), where the sum overflows for entries above half the largest float; no
    # intermediate exceeds max |x| (x^H - x would for a huge antisymmetric part). Where an
    # entry equals its mirror the difference is 0 itself, also where both are infinite
    # (inf - inf made cholesky([[inf, 1], [1, 2]]) all nan; NumPy's [[inf, 0], [0, 1.41]]):
    # the tangent there is dx rather than (dx + dx^H) / 2, the same to the decompositions,
    # which read the Hermitian part of their tangents only.
    xh = matrix_transpose(conj(x))
    return x + _ew.select(_ew.eq(xh, x), _st.zeros_like(x), xh / 2 - x / 2)


def eigh(a, UPLO=None, *, symmetrize_input=None):
    """Eigenvalues (ascending) and eigenvectors of a symmetric (Hermitian) matrix.

    By default, as ``jax.numpy``'s, it decomposes ``(x + x^H) / 2``: the values are NumPy's
    for a Hermitian ``x``, and the derivative is that of the values for any ``x``. Given
    ``UPLO`` ('L' or 'U', NumPy's), it reads that triangle only, as NumPy does (the
    derivative then assumes Hermitian perturbations); ``symmetrize_input`` (True or False)
    chooses explicitly. A function of the eigenvalues alone has :func:`eigvalsh`'s second
    derivatives (at a repeated eigenvalue too, and 0 between the matrices of a stack, under
    ``jit`` too). The eigenvectors' derivatives are infinite (or NaN) at a repeated
    eigenvalue, as JAX's; their second derivatives between the matrices of a stack are 0
    (eagerly and under ``vmap``; NaN under ``jit``, as JAX's), but where a cotangent of the
    eigenvalues depends on the input (NaN: the rule cannot tell its divided differences).

    At a repeated eigenvalue the tied eigenvectors are not continuous (LAPACK's basis of the
    cluster jumps along every direction that splits it), and their derivatives are NaN or
    inf in both modes, also along a direction that splits the tie without turning the pair
    (where a product strong per entry used to give 0). Exact zeros are kept where they are
    structural: another matrix of a stack that the tangent (cotangent) does not touch, and,
    in reverse mode, eigenvectors that the function does not read (``V[..., 2]`` at
    ``diag(1, 1, 2)`` has its finite derivative, and its second derivatives in every
    nesting since session 45: the rule's rotation within the tied cluster, infinite,
    cancels in pairs and is written out so). One case is out of reach: a function that
    multiplies tied eigenvectors by their gap, ``(w_1 - w_0) (v_1 v_1^T - v_0 v_0^T)``,
    gives reverse mode a cotangent that is exactly 0 on that matrix, bit for bit as one from
    a function that does not read it, and gets 0 there (forward mode: NaN)."""
    return EighResult(*_la.eigh(_symmetrized(a, symmetrize_input, UPLO, "eigh")))


def eigvalsh(a, UPLO=None, *, symmetrize_input=None):
    """Eigenvalues (ascending) of a symmetric (Hermitian) matrix; ``UPLO`` and
    ``symmetrize_input`` as in :func:`eigh`.

    At a repeated eigenvalue the first derivative is that of LAPACK's eigenvectors (as JAX's);
    second derivatives are divided differences of the cotangent over the eigenvalues: exact
    for a sum over the tied eigenvalues and 0 for another matrix of a stack, NaN (or inf)
    where they are undefined (one eigenvalue of the tie alone) or need more than the rule
    sees (a cotangent that depends on the input)."""
    return _la.eigvalsh(_symmetrized(a, symmetrize_input, UPLO, "eigvalsh"))


def eig(a):
    """Eigenvalues and right eigenvectors (unit-length columns) of a general square matrix
    (or stack), as NumPy's ``linalg.eig``.

    Both results are complex whatever the values (NumPy gives real arrays when every
    eigenvalue is real; a dtype that depends on values could not be staged, so this follows
    JAX): ``fnp.real`` them where you know the spectrum is real. Differentiable (real or
    complex input) where the eigenvalues are distinct. Each eigenvector is fixed only up to
    a complex factor of modulus 1 (a sign for a real one): the derivative keeps its length,
    and only functions that do not depend on that phase (``|v|``, ``v_i v_i^H``, ``V diag(w)
    V^{-1}``, the eigenvalues) have derivatives that match finite differences of the
    library's own choice. NumPy and torch have it; on other backends it needs their
    ``eig`` extra (``functrans.backends.register_extra``).

    At two equal eigenvalues the tied eigenvectors' derivatives are NaN (they turn within
    their plane by an amount the first-order data do not hold), with exact zeros where they
    are structural: the other matrices of a stack (each matrix's derivatives are those of
    the matrix alone, at every order eagerly and under ``vmap``, at first order under
    ``jit``) and the simple eigenvectors, whose derivatives stay finite in both modes. At a
    defective matrix (equal eigenvalues whose eigenvectors LAPACK returns numerically
    dependent, a Jordan block) there is no eigenbasis: the eigenvectors' derivatives and
    those of the defective eigenvalues are NaN (they move as a root of the perturbation),
    the simple eigenvalues' first derivatives are kept."""
    return EigResult(*_la.eig(_square(_float(a), "eig")))


def eigvals(a):
    """Eigenvalues of a general square matrix (or stack), as NumPy's ``linalg.eigvals``,
    always complex (see :func:`eig`); differentiable where they are distinct."""
    return _la.eigvals(_square(_float(a), "eigvals"))


def qr(a, mode="reduced"):
    """QR decomposition: ``Q`` with orthonormal columns and upper-triangular ``R``
    (``mode`` 'reduced' or 'complete'; NumPy's 'r' gives ``R`` alone).

    Differentiable (real or complex) in every shape and mode, as JAX's, where the leading
    square block of ``R`` is invertible; complex ``R`` has a real diagonal (LAPACK's
    convention), which fixes the phases of ``Q``'s columns, and the derivative follows it.
    The extra columns of a tall ``Q`` in mode 'complete' are LAPACK's choice (Householder
    reflections); their derivative is that of this choice, which jumps (no derivative) where
    a reflection is the identity (a column already zero below the diagonal).

    At such a column (an upper-triangular ``x``, ``x = I`` among them) LAPACK's ``Q`` and
    ``R`` themselves jump: its reflector gives ``R_kk`` the sign opposite to ``x_kk``'s
    wherever something below it is non-zero, and keeps ``x_kk``'s where all is zero, so
    every direction that moves an entry below the diagonal flips the signs of that column of
    ``Q`` and row of ``R`` (``qr(I + e E_10)`` has ``R_00 = -sqrt(1 + e^2)`` for every
    ``e != 0`` and ``+1`` at ``e = 0``). The derivative there (deliberately, as JAX's) is
    that of the factorization whose ``R`` keeps the signs of the returned diagonal: the
    one smooth branch through the returned value (square: ``dQ = Q O``, ``dR = Q^H dx - O
    R``, ``O = L - L^H`` with ``L`` the strictly lower part of ``Q^H dx R^{-1}``). It equals
    LAPACK's central differences along directions that keep those columns zero below the
    diagonal, and differs from them by the sign flip elsewhere (central differences of
    LAPACK's ``Q`` at ``I`` along ``E_10``: ``dQ[1, 0] = -1``; this derivative: ``+1``, the
    branch's). NaN there would make every derivative of ``qr(I + A)`` at ``A = 0`` NaN;
    use ``Q`` and ``R`` through sign-invariant functions (``Q R``, ``Q diag(s)`` with the
    signs ``s`` of ``diag(R)``, ``|R|``) where the branch matters."""
    if mode == "raw":
        raise NotImplementedError(
            "qr: mode='raw' (LAPACK's Householder vectors and scalars) is not supported; use "
            "mode='reduced' or 'complete' for Q and R")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: mode must be 'reduced', 'complete' or 'r'; got {mode!r}")
    if mode == "r":
        return _la.qr(_float(a), "reduced")[1]
    return QRResult(*_la.qr(_float(a), mode))


def _subset(name, subset_by_index, full_matrices, shape):
    """jax.numpy's ``subset_by_index=(start, end)`` of :func:`svd` checked: positions
    ``start <= i < end`` of the singular values (descending, so ``(0, k)`` are the ``k``
    largest); None where it is every one."""
    if len(shape) < 2:
        return None  # (svd's own error about the shape)
    k = builtins.min(shape[-2:])
    try:
        n = len(subset_by_index)
        start, end = (operator.index(i) for i in subset_by_index) if n == 2 else (0, 0)
    except TypeError:
        n = None
    if n != 2:  # (JAX's classes: ValueError for the length, TypeError for the entries)
        raise (ValueError if n is not None else TypeError)(
            f"{name}: subset_by_index must be a pair of integers (start, end); got "
            f"{subset_by_index!r}")
    if not 0 <= start < end <= k:
        raise ValueError(f"{name}: subset_by_index=({start}, {end}) must satisfy 0 <= start "
                         f"< end <= {k} (the number of singular values of a matrix of shape "
                         f"{shape[-2:]})")
    if (start, end) == (0, k):
        return None
    if full_matrices:
        raise ValueError(f"{name}: subset_by_index=({start}, {end}) picks some of the "
                         f"singular vectors, full_matrices=True asks for all of them; pass "
                         f"full_matrices=False (as JAX requires)")
    return start, end


def svd(a, full_matrices=True, compute_uv=True, hermitian=False, subset_by_index=None):
    """Singular value decomposition ``x = U diag(S) Vh`` (S descending); with
    ``compute_uv=False`` (NumPy's) the singular values alone, as :func:`svdvals`.
    ``hermitian`` (NumPy's) is accepted and changes nothing: the singular values are the
    same, the vectors may differ from NumPy's Hermitian path by the signs (phases) below.

    Differentiable (real or complex) where the singular values are distinct and non-zero
    (``full_matrices=True`` only for square ``x``). Each pair of singular vectors is defined
    up to a sign (real) or a common phase (complex); for complex ``x`` the derivative fixes
    the phase by keeping the diagonal of ``V^H dV`` zero, so only functions that do not
    depend on the phase (``U diag(S) Vh``, ``|U|``, ``u_i v_i^H``, ``S``) have derivatives
    that match finite differences of the library's own choice. A function of ``S`` alone has
    :func:`svdvals`' second derivatives. At a repeated singular value the tied vectors'
    derivatives are NaN or inf in both modes, with exact zeros where they are structural,
    as :func:`eigh`'s; for a real ``x`` a simple singular value's vectors keep their
    second derivatives there (every nesting, since session 45: eigh's of ``x x^T`` and
    ``x^T x``; near a tie, within ``sqrt(eps)``, eagerly as under ``jit`` since session 46).
    For a real rectangular ``x`` (session 48) the square factor (a tall ``x``'s ``Vh``, a
    wide one's ``U``) has them too, everywhere; the thin factor (a tall ``x``'s ``U``)
    eagerly on NumPy at a tie or zero seen in the values (as the square ``[x, 0]``'s, whose
    products are ``m x m``), NaN under ``jit``, ``vmap`` and on the other backends (a known
    limit, for its cost). A complex ``x``'s are NaN (a known limit). A rectangular ``x``'s
    tied vectors, and a zero singular value's thin vector (tied with the complement), are
    NaN in every nesting. Across a stack each matrix's derivatives, of every order, are those
    of the matrix alone: a tied matrix's NaN stays in its own entries (eagerly and under
    ``vmap``; under ``jit`` second derivatives between the matrices may be NaN, as JAX's).

    ``subset_by_index=(start, end)`` (jax.numpy's, there on TPU only) keeps the singular
    values at positions ``start <= i < end`` of the descending order (``(0, k)``: the ``k``
    largest) and their vectors; with ``full_matrices=False`` unless it keeps every one, as
    JAX's (without vectors, ``compute_uv=False``, any ``full_matrices``). It is a slice of the whole decomposition (no faster), so its derivative is that
    of the whole one."""
    a = _float(a)
    if hermitian:
        _square(a, "svd with hermitian=True")   # (as NumPy: a Hermitian matrix is square)
    sub = None if subset_by_index is None else _subset(
        "svd", subset_by_index, full_matrices and compute_uv, _shape(a))
    if sub is None:
        if not compute_uv:
            return svdvals(a)
        return SVDResult(*_la.svd(a, full_matrices))
    start, end = sub
    if not compute_uv:
        return _keep(svdvals(a), -1, start, end)
    u, s, vh = _la.svd(a, False)
    return SVDResult(_keep(u, -1, start, end), _keep(s, -1, start, end),
                     _keep(vh, -2, start, end))


def _keep(a, axis, start, end):
    """``a`` sliced to ``start:end`` along ``axis`` (negative)."""
    shape = _shape(a)
    axis += len(shape)
    return _st.slice_(a, tuple((start, end, 1) if i == axis else (0, d, 1)
                               for i, d in enumerate(shape)))


def svdvals(x, /):
    """Singular values (descending); second derivatives at repeated singular values as
    :func:`eigvalsh`'s at repeated eigenvalues. At an exactly zero singular value of a
    rectangular matrix they are NaN in the directions that move its complement where the
    function's weight of it depends on ``x`` (``sum(svdvals(x)**2)``: the weight ``2 s``
    vanishes with ``s``, which the rule does not see), exact elsewhere (since session 46);
    a function with a nonzero weight there (the nuclear norm: a kink) gets the signed
    branch's in forward over forward mode, as JAX's, NaN in the other nestings."""
    return _la.svdvals(_float(x))


def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """The Moore-Penrose pseudo-inverse (singular values below ``rtol * max(S)`` are
    dropped; the derivative assumes the rank does not change). NumPy's ``rcond`` is the
    same as ``rtol`` (give one); ``hermitian`` is accepted and changes nothing."""
    if rcond is not None and rtol is not None:
        raise ValueError("pinv: give rcond or rtol, not both (as in NumPy).")
    rtol = rcond if rtol is None else rtol
    a = _float(a)
    if rtol is None or (isinstance(rtol, numbers.Real) and not isinstance(rtol, bool)):
        return _la.pinv(a, None if rtol is None else float(rtol))
    # an array: one cut-off per matrix (NumPy's broadcasting over the batch), maybe traced,
    # as an operand of the primitive, whose derivative needs only the rank constant (it was
    # through the SVD, whose derivative is nan at repeated singular values: pinv(Q,
    # rtol=array) of an orthogonal Q; a traced 0-d rtol failed in float() under jit/vmap)
    if len(_shape(a)) < 2:
        raise ShapeError(f"pinv needs a (stack of) matrices; got shape {_shape(a)}")
    batch = _shape(a)[:-2]
    cut = _as_operand(rtol)
    if _dtype(cut).kind not in "iuf":
        raise TypeError(f"pinv: rtol (rcond) must be real; got dtype {_dtype(cut)}")
    try:
        shape = _broadcast_shapes(_shape(cut), batch)
    except (ValueError, ShapeError):
        shape = None
    if shape != batch:
        raise ShapeError(f"pinv: rtol (rcond) of shape {_shape(cut)} does not broadcast to "
                         f"the batch shape {batch} of a (shape {_shape(a)}): one value per "
                         f"matrix")
    cut = _st.convert_element_type(cut, _dt.real_dtype(_dtype(a)))
    return _la.pinv_p.bind(a, _st.broadcast_to(cut, batch), rtol=None)


def matrix_rank(M=None, tol=None, hermitian=False, *, rtol=None, A=None):
    """The number of singular values above ``rtol * max(S)`` (int64); NumPy's ``tol`` is an
    absolute threshold instead (give one of the two); ``hermitian`` is accepted and
    changes nothing. The matrix is ``M`` (jax.numpy's name) or ``A`` (NumPy's)."""
    if (M is None) == (A is None):
        raise TypeError("matrix_rank: give the matrix once, as M (jax.numpy's name) or A "
                        "(NumPy's)" + ("" if M is None else ", not both"))
    if M is None:
        M = A
    if tol is not None and rtol is not None:
        raise ValueError("matrix_rank: give tol or rtol, not both (as in NumPy).")
    M = _float(M)
    if len(_shape(M)) < 2:  # NumPy: a vector (or scalar) has rank 1 unless it is all zeros
        nonzero = _ew.ne(M, _st.full_like(M, 0))
        return _st.convert_element_type(_any(nonzero), _dt.int64)
    s = _la.svdvals(M)
    if tol is not None:
        tol = _st.broadcast_to(_as_operand(tol), _shape(s)[:-1])
        tol = _st.reshape(_st.convert_element_type(tol, _dtype(s)), _shape(s)[:-1] + (1,))
        return sum(_ew.gt(s, _st.broadcast_to(tol, _shape(s))), axis=-1)
    if rtol is None:
        rtol = builtins.max(_shape(M)[-2:]) * _dt_eps(_dtype(M))
    if not _shape(s)[-1]:  # (an empty matrix: rank 0, as NumPy's; max has nothing to reduce)
        return sum(_ew.gt(s, 0.0), axis=-1)
    if type(rtol) not in (int, float):  # one per matrix, as NumPy's (was broadcast against
        rtol = _per_matrix(rtol, s)     # the singular values' axis: a silent wrong rank)
    tol = multiply(max(s, axis=-1, keepdims=True), rtol)
    return sum(_ew.gt(s, _st.broadcast_to(tol, _shape(s))), axis=-1)


def _per_matrix(v, s):
    """``v`` (a number or array over the batch axes) broadcast to the batch shape of the
    singular values ``s``, with a length-1 axis for theirs."""
    v = _as_operand(v)
    batch = _shape(s)[:-1]
    v = _st.broadcast_to(v, batch) if _shape(v) != batch else v
    return _st.reshape(_st.convert_element_type(v, _dtype(s)), batch + (1,))


def _dt_eps(d):
    return 2.220446049250313e-16 if _dt.real_dtype(d).bits == 64 else 1.1920929e-07


def diagonal(x, /, *, offset=0):
    """Diagonal ``offset`` of the (stack of) matrices. Linear."""
    return _la.diagonal(_as_operand(x), int(offset))


def trace(x, /, *, offset=0, dtype=None):
    """Sum of diagonal ``offset``."""
    return sum(diagonal(x, offset=offset), axis=-1, dtype=dtype)


def outer(x1, x2, /):
    """Outer product of two vectors."""
    x1, x2 = _numpy_scalars_moved((x1, x2))
    x1, x2 = _as_operand(x1), _as_operand(x2)
    return multiply(reshape(x1, (-1, 1)), reshape(x2, (1, -1)))


def cross(x1, x2, /, *, axis=-1):
    """Cross product of 3-element vectors along ``axis`` of each operand (as NumPy: the
    vector axis is moved last in each, the rest broadcasts, and the result's vectors lie
    along ``axis`` of the broadcast shape)."""
    x1, x2 = _as_operand(x1), _as_operand(x2)
    (x1, x2), _ = _promote_arrays([x1, x2])
    if axis >= 0 and len(_shape(x1)) != len(_shape(x2)):
        # a non-negative axis names each operand's own axis: move it last in each first
        x1, x2 = (_moveaxis(v, _normalize_axis(axis, len(_shape(v))), -1) for v in (x1, x2))
        out = cross(x1, x2, axis=-1)
        return _moveaxis(out, -1, _normalize_axis(axis, len(_shape(out))))
    shape = _broadcast_shapes(_shape(x1), _shape(x2))
    x1, x2 = _st.broadcast_to(x1, shape), _st.broadcast_to(x2, shape)
    axis = _normalize_axis(axis, len(shape))
    if shape[axis] != 3:
        raise ShapeError(f"cross needs vectors of 3 elements along axis {axis}; got {shape}")

    def comp(v, i):
        idx = [(0, d, 1) for d in shape]
        idx[axis] = (i, i + 1, 1)
        return _st.slice_(v, tuple(idx))
    a0, a1, a2 = (comp(x1, i) for i in range(3))
    b0, b1, b2 = (comp(x2, i) for i in range(3))
    c0 = _ew.sub(_ew.mul(a1, b2), _ew.mul(a2, b1))
    c1 = _ew.sub(_ew.mul(a2, b0), _ew.mul(a0, b2))
    c2 = _ew.sub(_ew.mul(a0, b1), _ew.mul(a1, b0))
    return _st.concat([c0, c1, c2], axis)


def _jax_options(name, arrays, precision, preferred_element_type):
    """jax.numpy's ``precision`` (checked, no effect) and ``preferred_element_type``: see
    ``functrans.numpy._products._jax_options``."""
    from ._products import _jax_options as check
    return check(name, arrays, precision, preferred_element_type)


def _to_preferred(x, d):
    from ._products import _to_preferred as convert
    return convert(x, d)


def tensordot(x1, x2, /, *, axes=2, precision=None, preferred_element_type=None):
    """Sum of products over the last ``axes`` axes of ``x1`` and the first of ``x2`` (or
    over the axes listed in the pair ``axes``). ``jax.numpy``'s ``precision`` (checked, no
    effect) and ``preferred_element_type`` (the result's dtype, computed in it where that
    loses nothing) are accepted."""
    if precision is not None or preferred_element_type is not None:
        (x1, x2), convert_to = _jax_options("tensordot", [x1, x2], precision,
                                            preferred_element_type)
        if convert_to is not None:
            return _to_preferred(tensordot(x1, x2, axes=axes), convert_to)
    x1, x2 = _as_operand(x1), _as_operand(x2)
    (x1, x2), _ = _promote_arrays([x1, x2])
    s1, s2 = _shape(x1), _shape(x2)
    if not isinstance(axes, int) and hasattr(axes, "__index__"):
        axes = operator.index(axes)  # a NumPy integer
    if isinstance(axes, int):
        if axes < 0:
            raise ValueError("tensordot: axes must be non-negative")
        if axes > len(s1) or axes > len(s2):
            raise ShapeError(f"tensordot: axes={axes} is more than the number of axes of "
                             f"shapes {s1} and {s2}")
        a1 = tuple(range(len(s1) - axes, len(s1)))
        a2 = tuple(range(axes))
    else:
        a1, a2 = axes
        a1 = tuple(_normalize_axis(a, len(s1)) for a in ((a1,) if isinstance(a1, int) else a1))
        a2 = tuple(_normalize_axis(a, len(s2)) for a in ((a2,) if isinstance(a2, int) else a2))
    if len(a1) != len(a2) or [s1[i] for i in a1] != [s2[j] for j in a2]:
        raise ShapeError(f"tensordot: contracted axes {a1} of {s1} and {a2} of {s2} differ")
    if len(a1) > 1 and (len(set(a1)) != len(a1) or len(set(a2)) != len(a2)):
        raise ValueError(f"tensordot: an axis is listed twice in {a1} or {a2}")
    return _la.tensordot_p.bind(x1, x2, a1=a1, a2=a2)


def vecdot(x1, x2, /, *, axis=-1, precision=None, preferred_element_type=None, out=None):
    """Dot product of vectors along ``axis`` (conjugating ``x1``); other axes broadcast.
    A non-negative ``axis`` names each operand's own axis, as NumPy and JAX (the two differ
    when the operands have different numbers of dimensions). ``jax.numpy``'s ``precision``
    (checked, no effect) and ``preferred_element_type`` (the result's dtype, computed in it
    where that loses nothing) are accepted; NumPy's ``out`` only as None."""
    if out is not None:
        _no_out("vecdot", out)
    if precision is not None or preferred_element_type is not None:
        (x1, x2), convert_to = _jax_options("vecdot", [x1, x2], precision,
                                            preferred_element_type)
        if convert_to is not None:
            return _to_preferred(vecdot(x1, x2, axis=axis), convert_to)
    x1, x2 = _as_operand(x1), _as_operand(x2)
    if not _shape(x1) or not _shape(x2):  # (NumPy and JAX refuse them too)
        raise ShapeError(f"vecdot needs operands of at least one dimension; got shapes "
                         f"{_shape(x1)} and {_shape(x2)} (use multiply for a scalar)")
    if axis >= 0 and len(_shape(x1)) != len(_shape(x2)):
        x1, x2 = (_moveaxis(v, _normalize_axis(axis, len(_shape(v))), -1) for v in (x1, x2))
        axis = -1
    s1, s2 = _shape(x1), _shape(x2)
    if -len(s1) <= axis < len(s1) and -len(s2) <= axis < len(s2) and s1[axis] != s2[axis]:
        # the contracted axis does not broadcast (a size 1 there summed the other's
        # elements): the standard's, NumPy's and JAX's rule
        raise ShapeError(f"vecdot: the contracted axis {axis} has size {s1[axis]} in x1 "
                         f"(shape {s1}) and {s2[axis]} in x2 (shape {s2}); they must match")
    shape = _broadcast_shapes(s1, s2)
    axis = _normalize_axis(axis, len(shape))
    d1, d2 = _dtype(x1), _dtype(x2)
    half = d1 if d1 is d2 else _dt.result_type(d1, d2)
    if half is _dt.float16 or half is _dt.bfloat16:
        # products and sum in float32, rounded once, as JAX's dot of float16 and bfloat16
        # (each product rounded to 11 or 8 bits first was an ulp or more off in 40 % of dot
        # products of 256 normals)
        return _st.convert_element_type(vecdot(_st.convert_element_type(x1, _dt.float32),
                                               _st.convert_element_type(x2, _dt.float32),
                                               axis=axis), half)
    prod = multiply(conj(x1) if _dtype(x1).kind == "c" else x1, x2)
    # in the operands' promoted dtype, as NumPy, JAX and the Array API (sum alone widens
    # small integers to int64, and booleans to integers: NumPy's vecdot of booleans is any)
    return sum(prod, axis=axis, dtype=_dtype(prod))


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """The ``ord``-norm of vectors along ``axis`` (all elements by default): ``ord`` is a
    positive or negative number, ``inf`` or ``-inf`` (0 counts non-zero elements). At a zero
    element, where ``|x|**ord`` has a kink (``ord < 2``, not 1), the derivatives it makes
    undefined are NaN (``0 < ord < 1``: the first ones that move it and the second ones that
    move it and any element of its vector; ``ord < 0``: the first ones that move it and the
    second ones that move two zeros; ``1 < ord < 2``: the second one that moves it twice),
    and only those: the other vectors' derivatives are unaffected, at every order. A vector
    of zeros (2-norm, ``ord > 2``: the norm's cone point) has NaN derivatives in the
    directions that move it, as JAX's, and 0 in the others (under ``jit``, as JAX's, NaN in
    the other vectors' directions too: the check costs a staged call more than the norm)."""
    x = _float(x)
    shape = _shape(x)
    axes = _normalize_axes(axis, len(shape))
    a = abs(x)
    if ord == 2 or ord is None:  # (None: NumPy's and JAX's 2-norm too)
        sq = real(_ew.mul(conj(x), x)) if _dtype(x).kind == "c" else _ew.mul(x, x)
        return _root_of_sum(x, sq, axes, keepdims, sqrt)
    if ord == math.inf:
        return _max_of_nonnegative(a, axes, keepdims)
    if ord == -math.inf:
        return min(a, axis=axes, keepdims=keepdims)
    if ord == 1:
        return sum(a, axis=axes, keepdims=keepdims)
    if ord == 0:
        return sum(_st.convert_element_type(_ew.ne(a, 0.0), _dtype(a)), axis=axes,
                   keepdims=keepdims)
    try:
        p = float(ord)
    except (TypeError, ValueError):
        raise ValueError(f"vector_norm: ord must be a number, inf or -inf; got {ord!r} (the "
                         f"matrix orders are matrix_norm's)") from None
    if p == 1:
        return pow(sum(pow(a, p), axis=axes, keepdims=keepdims), 1.0 / p)
    if p >= 2:  # (|x|**p is differentiable at 0, with slope 0, twice)
        return _root_of_sum(x, pow(a, p), axes, keepdims, lambda q: pow(q, 1.0 / p))
    # p < 2, not 1: |x|**p has an infinite second (p > 1) or first (p < 1) derivative at 0.
    # As pow(a, p), that infinity times the zero tangent of every other element was NaN in
    # every direction (p < 1: jacfwd of vector_norm(x, ord=0.5) at [0, 3, -4] all NaN where
    # the reverse mode gave [nan, 2.15, -1.87], hessian all NaN; 1 < p < 2: the hessian NaN
    # in the zero's row (column) of every slice). So the powers with the zeros masked (no
    # derivative there), plus _zero_kinks: 0, with NaN derivatives in the directions that
    # move a zero, and strong zeros in all others.
    zero = _ew.eq(a, 0.0)
    from ..scipy.special import _may_hold
    if not _may_hold(zero):  # (known on the values: no zero, the plain form is right)
        return pow(sum(pow(a, p), axis=axes, keepdims=keepdims), 1.0 / p)
    powers = _where(zero, 0.0 if p > 0 else math.inf, pow(_where(zero, 1.0, a), p))
    out = pow(sum(powers, axis=axes, keepdims=keepdims), 1.0 / p)
    # p < 0: a zero makes the sum inf and the norm 0 wherever it stays 0 (near it the norm
    # is ~ |x0|), so the other elements' derivatives are 0 there, and so are their mixed
    # second derivatives with x0 (they vanish as |x0|**(1 - p)): NaN only for the first
    # derivatives that move a zero and the second ones that move two zeros of the slice
    # (or one twice: |x0|'s kink). 0 < p < 1: also the second derivatives that move a zero
    # and any other element of its slice (through the outer power). 1 < p < 2: the second
    # derivative that moves one zero twice only.
    mode = "pairs" if p < 0 else ("cross" if p < 1 else "diagonal")
    return out + _zero_kinks(x, zero, axes, keepdims, mode)


def _root_of_sum(x, terms, axes, keepdims, root):
    """``root(sum(terms))`` over ``axes`` (the 2-norm, or a p-norm with p >= 2, of ``x``'s
    slices). A zero slice (sum 0: the norm's cone point) gets 0 with a NaN derivative in
    the directions that move it (at every order; as JAX's, and the p < 2 norms' at a zero)
    and exactly 0 in the others: root's infinite slope at 0 times the zero tangent of the
    sum made NaN in every direction, the Jacobian's entries between slices too
    (jacfwd(vector_norm(x, axis=1)) at [[0, 0, 0], [1, 2, 0]]: row 0 by row 1)."""
    q = sum(terms, axis=axes, keepdims=keepdims)
    if not isinstance(q, _Tracer):   # (a plain array: no derivative to take)
        return root(q)
    v = _concrete_behind(q)
    if v is None or (v.all() if isinstance(v, _np.ndarray) else bool(v != 0)
                     if isinstance(v, _np.generic) else not _may_hold_zero(v)):
        # (known on the values: no zero slice, the plain form is right; read from the
        # array behind the tracers, no primitive bound. Staged (jit), the plain form too,
        # as JAX's: the zero-slice form would cost every call 2.6x)
        return root(q)
    zero = _ew.eq(q, 0.0)
    out = _where(zero, 0.0, root(_where(zero, 1.0, q)))
    if _dtype(x).kind == "c":   # (the two parts as elements of the slice, as _zero_kinks)
        if axes:
            from ._base import concat
            x = concat([real(x), _imag(x)], axis=axes[0])
        else:
            x = real(x) + _imag(x)
    kept = zero if keepdims else reshape(zero, tuple(
        [1 if i in axes else d for i, d in enumerate(_shape(x))]))
    from ..scipy.special import _nan_slope
    slope = _nan_slope(x, kept, 0.0)
    return _ew.add(out, slope if keepdims else reshape(slope, _shape(out)))


def _may_hold_zero(v):
    from ..backends import backend_of
    b = backend_of(v)
    return bool(b.to_numpy(b.xp.any(v == 0)))


# (session 38) The NaN derivatives of vector_norm's kinks at zeros, as custom_jvp functions
# whose rule puts the NaN coefficient directly on the input's tangent (special._nan_slope's
# form, at every order). Built from mul_sz products of the zeros' sum and the slice's sum
# (session 37), some order of reverse and forward mode met a zero coefficient of another
# slice's direction with a NaN cotangent (mul_sz is strong in one factor only): jacrev(
# jacfwd) of vector_norm([[0, 1, 2], [1, 2, 3]], ord=0.5, axis=1) was NaN at d out0 / d x1k
# d x00, the hessian of ord=-1 at d out1 / d x00^2.
_zero_kink_fns = {}


def _zero_kinks(x, zero, axes, keepdims, mode):
    """0 per slice of ``x`` over ``axes``, whose derivatives are NaN where a kink of
    ``|x_j|**p`` at a zero ``x_j`` makes them undefined (``mode``: "pairs", first
    derivatives that move a zero and second ones that move two; "cross", first derivatives
    that move a zero and second ones that move a zero and any element of its slice;
    "diagonal", second derivatives that move one zero twice), and exactly 0 in the others
    (also between slices). A complex ``x`` counts its real and imaginary parts."""
    fn = _zero_kink_fns.get(mode)
    if fn is None:
        from ..custom import custom_jvp
        fn = _zero_kink_fns[mode] = custom_jvp(lambda t, nans, kept: kept)
        fn.defjvp(lambda primals, tangents: _zero_kinks_jvp(fn, mode, primals, tangents))
    if _dtype(x).kind == "c":
        if axes:   # (the two parts as elements of the slice)
            from ._base import concat
            x = concat([real(x), _imag(x)], axis=axes[0])
            zero = concat([zero, zero], axis=axes[0])
        else:      # (slices of one element: a tangent that moves either part)
            x = real(x) + _imag(x)
    nans = _st.convert_element_type(_where(zero, math.nan, 0.0), _dtype(x))
    kept = sum(_st.full_like(x, 0), axis=axes, keepdims=True)
    out = fn(x, nans, kept)
    return out if keepdims else reshape(out, _shape(sum(kept, axis=axes)))


def _zero_kinks_jvp(fn, mode, primals, tangents):
    from ..scipy.special import _nan_slope, _slice_axes
    from ._base import broadcast_to
    from ._elementwise import isnan
    x, nans, kept = primals
    out = fn(x, nans, kept)
    axes = _slice_axes(x, kept)
    zero = isnan(nans)
    if mode == "diagonal":
        # 0, with a derivative NaN in the directions that move the zero itself
        coef = _where(zero, _nan_slope(x, zero, 0.0), 0.0)
    else:
        # NaN on a zero's tangent; out's derivative (NaN where a zero moves) on every
        # tangent of the slice ("cross") or on the zeros' ("pairs")
        spread = broadcast_to(out, _shape(x))
        coef = nans + (spread if mode == "cross" else _where(zero, spread, 0.0))
        if mode == "cross":
            # and on a zero's tangent a term whose derivative is NaN where any element of
            # its slice moves
            hole = _ew.ne(sum(nans, axis=axes, keepdims=True), 0.0)
            coef = coef + _where(zero, broadcast_to(_nan_slope(x, hole, 0.0), _shape(x)), 0.0)
    return out, sum(_ew.mul_sz(coef, tangents[0]), axis=axes, keepdims=True)


def _max_of_nonnegative(a, axes, keepdims=False):
    """The maximum of non-negative values over ``axes``; 0 over no values at all (NumPy's
    norms of empty arrays), where ``max`` itself has no identity to give."""
    shape = _shape(a)
    if builtins.any(shape[ax] == 0 for ax in axes):
        return sum(a, axis=axes, keepdims=keepdims)  # zeros of the right shape
    return max(a, axis=axes, keepdims=keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """A norm of the (stack of) matrices: ``"fro"``, ``"nuc"``, 1, -1, 2, -2, ``inf``,
    ``-inf``."""
    x = _float(x)
    nd = len(_shape(x))
    if nd < 2:
        raise ShapeError(f"matrix_norm needs matrices; got shape {_shape(x)}")
    if ord == "fro":
        out = vector_norm(x, axis=(nd - 2, nd - 1), keepdims=keepdims)
        return out
    if ord in ("nuc", 2, -2):
        s = _la.svdvals(x)
        r = sum(s, axis=-1) if ord == "nuc" else (_max_of_nonnegative(s, (-1,)) if ord == 2
                                                  else min(s, axis=-1))
    elif ord in (1, -1):
        cols = sum(abs(x), axis=-2)
        r = _max_of_nonnegative(cols, (-1,)) if ord == 1 else min(cols, axis=-1)
    elif ord in (math.inf, -math.inf):
        rows = sum(abs(x), axis=-1)
        r = _max_of_nonnegative(rows, (-1,)) if ord > 0 else min(rows, axis=-1)
    else:
        raise ValueError(f"matrix_norm: unsupported ord {ord!r}")
    if keepdims:
        r = reshape(r, _shape(r) + (1, 1))
    return r


def matrix_power(a, n):
    """``x`` multiplied by itself ``n`` times (``n < 0``: powers of the inverse; ``n = 0``:
    the identity)."""
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"matrix_power: the exponent n must be an integer (as in NumPy); got "
                        f"{n!r} of type {type(n).__name__}") from None
    # integers and booleans keep their dtype for n >= 0, as NumPy (booleans: or of ands)
    a = _as_operand(a) if n >= 0 else _float(a)
    _square(a, "matrix_power")
    if n == 0:
        return _la.diag_embed(_st.full_like(_la.diagonal(a), 1))
    if n < 0:
        a, n = _la.inv(a), -n
    boolean = _dtype(a) is _dt.bool_
    if boolean:  # (torch and array-api-strict have no boolean matmul): counts, then != 0
        a = _st.convert_element_type(a, _dt.int64)

    def product(a, b):
        c = matmul(a, b)
        return _st.convert_element_type(_ew.ne(c, _st.full_like(c, 0)), _dt.int64) if boolean else c
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else product(result, base)
        n >>= 1
        if n:
            base = product(base, base)
    return _ew.ne(result, _st.full_like(result, 0)) if boolean else result


# -- NumPy's names beyond the standard -----------------------------------------------------------


def norm(x, ord=None, axis=None, keepdims=False):
    """NumPy's norm: a vector norm (``x`` 1-d, or an int ``axis``) or a matrix norm (``x``
    2-d, or a pair ``axis``); with ``ord=None`` and ``axis=None``, the 2-norm of all of ``x``
    flattened, whatever its dimensions. Vector orders: ``None``/2, any number, ``inf``,
    ``-inf``, 0 (the count of non-zeros); matrix orders: ``None``/``'fro'``, ``'nuc'``, 1,
    -1, 2, -2, ``inf``, ``-inf``. Integers give float64. The derivative at 0 is NaN."""
    x = _float(x)
    nd = len(_shape(x))
    if axis is None:
        if ord is None:
            return vector_norm(x, axis=None, keepdims=keepdims)
        if nd not in (1, 2):
            raise ValueError(f"norm: an ord ({ord!r}) without axis needs a 1-d or 2-d array; "
                             f"got {nd} dimensions")
        axis = tuple(range(nd))
    if isinstance(axis, int) or (hasattr(axis, "__index__") and not hasattr(axis, "__len__")):
        axis = (int(axis),)
    axis = tuple(int(a) for a in axis)
    if len(axis) == 1:
        if isinstance(ord, str):
            raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
        return vector_norm(x, axis=axis[0], keepdims=keepdims, ord=2 if ord is None else ord)
    if len(axis) != 2:
        raise ValueError(f"norm: axis must name 1 or 2 axes; got {axis}")
    row, col = (_normalize_axis(a, nd) for a in axis)
    if row == col:
        raise ValueError(f"norm: duplicate axes {axis}")
    ord = "fro" if ord is None else ord
    if ord not in ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf):
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices")
    moved = _st.transpose(x, tuple(i for i in range(nd) if i not in (row, col)) + (row, col))
    out = matrix_norm(moved, ord=ord)
    if keepdims:
        out = reshape(out, tuple(1 if i in (row, col) else d
                                 for i, d in enumerate(_shape(x))))
    return out


def multi_dot(arrays, *, out=None, precision=None):
    """NumPy's multi_dot: the matrix product of two or more arrays, in the order of
    multiplication that costs the fewest scalar products; the first may be 1-d (a row) and
    the last 1-d (a column), the others are 2-d. ``out`` is not supported; ``jax.numpy``'s
    ``precision`` is checked and has no effect."""
    if out is not None:
        raise NotImplementedError("multi_dot: out= is not supported; use the returned array")
    if precision is not None:
        _jax_options("multi_dot", [], precision, None)
    arrays = [_as_operand(a) for a in _unstacked(arrays)]
    n = len(arrays)
    if n < 2:
        raise ValueError("multi_dot: needs at least two arrays")
    arrays, _ = _promote_arrays(arrays)
    first_1d, last_1d = len(_shape(arrays[0])) == 1, len(_shape(arrays[-1])) == 1
    if first_1d:
        arrays[0] = _st.reshape(arrays[0], (1,) + _shape(arrays[0]))
    if last_1d:
        arrays[-1] = _st.reshape(arrays[-1], _shape(arrays[-1]) + (1,))
    for i, a in enumerate(arrays):
        if len(_shape(a)) != 2:
            raise ShapeError(f"multi_dot: array {i} has shape {_shape(a)}; the first and last "
                             f"may be 1-d, all others must be 2-d")
    for i in range(n - 1):
        if _shape(arrays[i])[1] != _shape(arrays[i + 1])[0]:
            raise ShapeError(f"multi_dot: arrays {i} and {i + 1} are not aligned (shapes "
                             f"{_shape(arrays[i])} and {_shape(arrays[i + 1])})")
    dims = [_shape(a)[0] for a in arrays] + [_shape(arrays[-1])[1]]
    # the classic matrix-chain order: cost[i][j] is the cheapest product of arrays i..j
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def product(i, j):
        if i == j:
            return arrays[i]
        k = split[i][j]
        return _la.matmul(product(i, k), product(k + 1, j))
    result = product(0, n - 1)
    if first_1d and last_1d:
        return _st.reshape(result, ())
    if first_1d or last_1d:
        return _st.reshape(result, (_shape(result)[1] if first_1d else _shape(result)[0],))
    return result


def cond(x, p=None):
    """NumPy's cond: the condition number of the (stack of) matrices in norm ``p``: for
    ``None``/2 the ratio of the largest to the smallest singular value (-2: its inverse), for
    ``'fro'``, ``'nuc'``, 1, -1, ``inf``, ``-inf`` (square matrices) ``norm(x) *
    norm(inv(x))``, ``inf`` for a singular matrix (an exact zero pivot), as NumPy's and
    JAX's. A ratio 0 / 0 (a matrix of zeros) is ``inf``, as NumPy's and JAX's. For
    ``None``/2/-2 the second derivatives at a repeated largest or smallest singular value
    (a kink) are not finite where the direction splits it, and 0 between the matrices of a
    stack."""
    x = _float(x)
    if len(_shape(x)) < 2:
        raise ShapeError(f"cond needs matrices; got shape {_shape(x)}")
    if 0 in _shape(x)[-2:]:
        raise ValueError(f"cond is not defined for empty matrices (shape {_shape(x)})")
    if p is None or p in (2, -2):
        s = _la.svdvals(x)
        if _may_be_differentiated(x) and _la._may_tie(s, zero=True):
            return _cond_at_ties(x, p == -2)
        big = _st.slice_(s, tuple((0, d, 1) for d in _shape(s)[:-1]) + ((0, 1, 1),))
        k = _shape(s)[-1]
        small = _st.slice_(s, tuple((0, d, 1) for d in _shape(s)[:-1]) + ((k - 1, k, 1),))
        # a matrix of zeros gives 0 / 0: infinitely ill-conditioned, inf as in NumPy and JAX
        # (NaN stays where the matrix holds one). There, and where the smallest singular
        # value is 0 (p = 2: inf with no derivative, as JAX's nan), 1 / 1 is divided instead
        # (the zero cotangent met 0 / 0: nan for the other matrices of a stack).
        from ..scipy.special import _may_hold
        from ._base import stop_gradient, where
        from ._elementwise import isnan, logical_and, logical_not, logical_or
        ratio = _ew.div(big, small) if p != -2 else _ew.div(small, big)
        nan_ratio = isnan(stop_gradient(ratio))
        undefined = nan_ratio if p == -2 else logical_or(nan_ratio,
                                                         _ew.eq(stop_gradient(small), 0))
        if not _may_hold(undefined):   # (known on the values: every ratio defined)
            return _st.reshape(ratio, _shape(s)[:-1])
        zeros = logical_and(undefined,
                            _st.reshape(logical_not(_any(isnan(x), axis=(-2, -1))), _shape(big)))
        big, small = where(zeros, 1.0, big), where(zeros, 1.0, small)
        r = _st.reshape(_ew.div(big, small) if p != -2 else _ew.div(small, big), _shape(s)[:-1])
        zeros = _st.reshape(zeros, _shape(r))
        return where(zeros, _inf_with_nan_slope(zeros, x), r)
    if p not in ("fro", "nuc", 1, -1, math.inf, -math.inf):
        raise ValueError(f"cond: invalid norm order {p!r}")
    _square(x, "cond")
    # A singular matrix (slogdet's sign 0: a zero pivot, never an underflow) gets inf; the
    # inverse is taken of the identity in its place, where the inverse would raise.
    from ._base import expand_dims, stop_gradient, where
    from ._creation import eye
    singular = _ew.eq(stop_gradient(slogdet(x)[0]), 0)
    from ..scipy.special import _may_hold
    if not _may_hold(singular):   # (known on the values: every matrix invertible)
        return multiply(matrix_norm(x, ord=p), matrix_norm(_la.inv(x), ord=p))
    n = _shape(x)[-1]
    safe = where(expand_dims(singular, axis=(-2, -1)), eye(n, dtype=x.dtype, device=x.device), x)
    # (the norm of the identity too: a zero matrix's norm has a nan slope at 0 for a
    # cotangent that is 0 there)
    r = multiply(matrix_norm(safe, ord=p), matrix_norm(_la.inv(safe), ord=p))
    return where(singular, _inf_with_nan_slope(singular, x), r)


def _may_be_differentiated(x):
    """Whether x is a tracer (a transform's value: plain arrays have no derivatives)."""
    return isinstance(x, _Tracer)


def _cond_at_ties(x, inverse):
    """cond (2 or -2) where a matrix's singular values hold a tie or a zero (eager values;
    elsewhere, and staged, the plain ratio above: its rules are right without ties): the
    ratio's weighted spectral map (_cond_ratio), so that a zero cotangent of a tied matrix
    gives exactly 0 (the other matrices of a stack)."""
    ratio = _cond_ratio(x, inverse)
    # a matrix of zeros gives 0 / 0: infinitely ill-conditioned, inf as in NumPy and JAX
    # (NaN stays where the matrix holds one). There, and where the smallest singular value
    # is 0 (p = 2: inf with no derivative, as JAX's nan: the ratio is inf or nan),
    # diag(1, ..., n) is taken instead (the zero cotangent met 0 / 0).
    from ..scipy.special import _may_hold
    from ._base import expand_dims, stop_gradient, where
    from ._elementwise import isinf, isnan, logical_and, logical_not, logical_or
    value = stop_gradient(ratio)
    undefined = isnan(value) if inverse else logical_or(isnan(value), isinf(value))
    if not _may_hold(undefined):   # (known on the values: every ratio defined)
        return ratio
    zeros = logical_and(undefined, logical_not(_any(isnan(x), axis=(-2, -1))))
    n = builtins.min(_shape(x)[-2:])
    safe = _la.diag_embed(_st.convert_element_type(_arange_like(x, n) + 1.0, _dtype(x)),
                          0, _shape(x)[-2], _shape(x)[-1])
    r = _cond_ratio(where(expand_dims(zeros, axis=(-2, -1)), safe, x), inverse)
    return where(zeros, _inf_with_nan_slope(zeros, x), r)


_cond_ratio_fns = {}


def _cond_ratio(x, inverse):
    """s_max / s_min of each matrix (``inverse``: s_min / s_max), as a custom_jvp function
    whose tangent is spectral_tangent's weighted map, sum_k h_k Re diag(U^H dx V)_k with h
    the ratio's slopes in the singular values: its second derivatives are then strong in
    the cotangent (see spectral_tangent). Through svdvals, whose transpose saw the cotangent
    times h, the second derivatives met a zero cotangent of another matrix of a stack with
    1 / (s_j - s_i) at a tie: nan between the matrices (jacfwd(jacrev(cond)) of a stack
    beside diag(1, 1, 2))."""
    fn = _cond_ratio_fns.get(inverse)
    if fn is None:
        from ..custom import custom_jvp

        def value(x):
            s = _la.svdvals(x)
            big, small = _ends(s)
            return _ew.div(small, big) if inverse else _ew.div(big, small)

        def rule(primals, tangents):
            x, = primals
            u, s, vh = _la.svd(x, False)
            big, small = _ends(_la.svdvals(x))   # (svdvals' bits: the value's own)
            out = _ew.div(small, big) if inverse else _ew.div(big, small)
            k = _shape(s)[-1]
            pos = _arange_like(s, k)
            first = _st.broadcast_to(_st.convert_element_type(_ew.eq(pos, 0.0), _dtype(s)),
                                     _shape(s))
            last = _st.broadcast_to(_st.convert_element_type(_ew.eq(pos, float(k - 1)),
                                                             _dtype(s)), _shape(s))
            b = _st.broadcast_to(reshape(big, _shape(big) + (1,)), _shape(s))
            m = _st.broadcast_to(reshape(small, _shape(small) + (1,)), _shape(s))
            mul, div = _ew.mul, _ew.div   # (binds: first and last are plain arrays)
            if inverse:   # d (m / b) = dm / b - m db / b^2
                h = _ew.sub(div(last, b), mul(first, div(m, mul(b, b))))
            else:         # d (b / m) = db / m - b dm / m^2
                h = _ew.sub(div(first, m), mul(last, div(b, mul(m, m))))
            t = _la.spectral_tangent(tangents[0], x, u, s, vh, h, kind="svd_diag",
                                     weighted=True)
            return out, sum(t, axis=-1)
        fn = _cond_ratio_fns[inverse] = custom_jvp(value)
        fn.defjvp(rule)
    return fn(x)


def _ends(s):
    """The largest and smallest singular values (batch shape)."""
    k = _shape(s)[-1]
    lead = tuple((0, d, 1) for d in _shape(s)[:-1])
    big = _st.slice_(s, lead + ((0, 1, 1),))
    small = _st.slice_(s, lead + ((k - 1, k, 1),))
    return reshape(big, _shape(s)[:-1]), reshape(small, _shape(s)[:-1])


def _arange_like(x, n):
    """0, 1, ..., n - 1 as x's real dtype, on its device."""
    from ._creation import arange
    from ._base import device as _device
    return arange(n, dtype=_dt.real_dtype(_dtype(x)), device=_device(x))


def _inf_with_nan_slope(mask, x):
    """inf for each matrix of the stack ``x`` where ``mask`` (its batch shape), with a nan
    derivative in the directions that move that matrix (cond has none at a singular matrix:
    inf there, finite nearby; JAX's is nan, a constant inf's was 0) and 0 elsewhere, also
    for the other matrices of a stack (special._nan_slope's strong zero: the earlier
    ``inf * (1 + 0 f)`` met a zero tangent with inf, nan between the matrices), at every
    order."""
    from ..scipy.special import _nan_slope
    from ._base import expand_dims
    v = _nan_slope(x, expand_dims(mask, axis=(-2, -1)), math.inf)
    if _dtype(v).kind == "c":
        v = real(v)
    return _st.reshape(_st.convert_element_type(v, _dt.real_dtype(_dtype(x))), _shape(mask))


def lstsq(a, b, rcond=None, *, numpy_resid=False):
    """The least-squares solution ``x`` of ``a @ x = b`` (``a`` of shape ``(M, N)``, ``b``
    of shape ``(M,)`` or ``(M, K)``), as ``jax.numpy.linalg.lstsq``: returns ``(x,
    residuals, rank, s)``. ``x`` comes from the SVD of ``a``, singular values at most
    ``rcond * max(s)`` counting as zero (``rcond=None``: float64's machine precision times
    ``max(M, N)``; a negative ``rcond``: float64's machine precision). As in NumPy,
    single-precision input is solved in double precision (so its rank is decided as for
    float64) and the results are rounded back. ``rank`` is a 0-d int32 array and ``s`` the
    singular values (descending).

    ``residuals`` are, as JAX's by default, the squared norms of the columns of ``b - a @
    x`` whatever the rank and shape (shape ``(K,)``, or ``(1,)`` for a 1-d ``b``; zeros, up
    to rounding, where ``a @ x = b`` is solved exactly), so their shape does not depend on
    the rank's value and ``lstsq`` runs under ``jit`` and ``vmap``. ``numpy_resid=True``
    gives NumPy's: those norms only when the rank is ``N`` and ``M > N``, else an empty
    array; for ``M > N`` that needs concrete values (under ``jit`` or ``vmap`` a
    ConcretizationError that names ``numpy_resid=False``).

    ``x`` and ``residuals`` are differentiable where the rank stays the same (and, through
    the SVD, the singular values are distinct)."""
    return _lstsq(a, b, rcond, True if numpy_resid else "always")


def _lstsq(a, b, rcond, residuals):
    """:func:`lstsq`; ``residuals``: True (NumPy's), ``"always"`` (jax.numpy's
    ``numpy_resid=False``), ``"where known"`` (NumPy's where the rank is a value, else
    jax.numpy's: polyfit's ``full``) or False (None returned). Only NumPy's depend on the
    rank's value; the rest also runs under ``jit`` and ``vmap``."""
    a, b = _float(a), _float(b)
    for x in (a, b):
        if _la._is_half(_dt.real_dtype(_dtype(x))):
            # (was solved in double and rounded back, where NumPy, solve and pinv refuse it;
            # NumPy also beside a float32 operand)
            _la._refuse_half("lstsq", _dtype(x))
    (a, b), _ = _promote_arrays([a, b])
    sa, sb = _shape(a), _shape(b)
    if len(sa) != 2:
        raise ShapeError(f"lstsq: a must be two-dimensional; got shape {sa}")
    if len(sb) not in (1, 2):
        raise ShapeError(f"lstsq: b must be one- or two-dimensional; got shape {sb}")
    m, n = sa
    if sb[0] != m:
        raise ShapeError(f"lstsq: Incompatible dimensions: a has {m} rows, b has {sb[0]}")
    out_dt = _dtype(a)
    if _dt.real_dtype(out_dt).bits < 64:  # NumPy solves single precision in double
        wide = _dt.complex128 if out_dt.kind == "c" else _dt.float64
        a, b = _st.convert_element_type(a, wide), _st.convert_element_type(b, wide)
    vec = len(sb) == 1
    bb = _st.reshape(b, (m, 1)) if vec else b
    k = _shape(bb)[1]
    dt = _dtype(a)
    rdt = _dt.real_dtype(dt)
    eps = _dt_eps(dt)
    if rcond is None:
        rcond = eps * builtins.max(m, n)
    elif rcond < 0:
        rcond = eps
    resid = None
    if m == 0 or n == 0:
        x = _st.broadcast_to(_st.reshape(_st.full_like(_st.iota(a, 1, dt), 0), ()), (n, k))
        s = _st.convert_element_type(_st.reshape(_st.iota(a, 0), (0,)), rdt)
        rank = _st.convert_element_type(_st.reshape(_st.iota(a, 1), ()), _dt.int32)
        if residuals == "always":  # (x = 0: the norms of b's columns; zeros for m = 0)
            resid = _squared_column_norms(bb)
        elif residuals:
            r = abs(bb)
            resid = sum(multiply(r, r), axis=0) if (m > n == 0) else _st.slice_(
                _st.reshape(_st.iota(a, 1, rdt), (1,)), ((0, 0, 1),))
    else:
        u, s, vh = _la.svd(a, False)
        cutoff = multiply(max(s), float(rcond))
        big = _ew.gt(s, _st.broadcast_to(_st.reshape(cutoff, (1,)), _shape(s)))
        one = _st.full_like(s, 1.0)
        inv_s = _ew.select(big, _ew.div(one, _ew.select(big, s, one)), _ew.mul(one, 0.0))
        inv_s = _st.convert_element_type(inv_s, dt) if dt is not rdt else inv_s
        y = matmul(matrix_transpose(conj(u)), bb)
        y = multiply(_st.reshape(inv_s, (_shape(s)[0], 1)), y)
        x = matmul(matrix_transpose(conj(vh)), y)
        if _may_be_differentiated(a) and _la._seen_tie(s, zero=False):
            # (session 50: at a tie, rounding-level too, x's derivative through svd's
            # vectors is nan (their rotation within the cluster, which x does not see;
            # 1.55 off before at u diag(2, 1, 1) v^T): pinv's, whose rule divides by no
            # gap, the value bit for bit the one above. Eager NumPy values with a tie
            # only: one more SVD; under jit and vmap the nan stays, a known limit)
            from ._base import stop_gradient
            pb = matmul(_la.pinv(a, float(rcond)), bb)
            x = _ew.add(stop_gradient(x), _ew.sub(pb, stop_gradient(pb)))
        rank = _st.convert_element_type(sum(big), _dt.int32)
        if residuals == "where known" and m > n:
            # NumPy's where the rank is a value here, else (under jit or vmap of a traced
            # a) jax.numpy's, whose shape the rank does not decide
            residuals = True if _rank_known(rank) else "always"
        if residuals == "always":
            resid = _squared_column_norms(_ew.sub(bb, matmul(a, x)))
        elif residuals and m > n and _full_rank(rank, n):
            r = abs(_ew.sub(bb, matmul(a, x)))
            resid = sum(multiply(r, r), axis=0)
        elif residuals:
            resid = _st.slice_(_st.reshape(_st.full_like(s, 0.0), (_shape(s)[0],)),
                               ((0, 0, 1),))
    if vec:
        x = _st.reshape(x, (n,))
    if dt is not out_dt:  # back to single precision
        ordt = _dt.real_dtype(out_dt)
        x, s = _st.convert_element_type(x, out_dt), _st.convert_element_type(s, ordt)
        if resid is not None:
            resid = _st.convert_element_type(resid, ordt)
    return x, resid, rank, s


def _squared_column_norms(r):
    """``sum(|r|**2, axis=0)``, real, smooth at ``r = 0`` (the residuals of an exact solve)."""
    if _dtype(r).kind == "c":
        return sum(real(multiply(conj(r), r)), axis=0)
    return sum(multiply(r, r), axis=0)


def _rank_known(rank):
    try:
        builtins.int(rank)
    except ConcretizationError:
        return False
    return True


def _full_rank(rank, n):
    try:
        return builtins.int(rank) == n
    except ConcretizationError as e:
        raise ConcretizationError(
            "linalg.lstsq: NumPy's residuals (numpy_resid=True) are there only where the "
            "rank (a value) is full, so their shape is not known under jit or vmap. Leave "
            "numpy_resid=False, the default (jax.numpy's: the squared residual norms whatever "
            "the rank, of shape (K,)), or use only x and s.") from e


def tensorinv(a, ind=2):
    """The inverse of ``a`` as a tensor operator: the first ``ind`` axes are the output
    index, the rest the input index, and the result ``ia`` (of shape ``a.shape[ind:] +
    a.shape[:ind]``) satisfies ``tensordot(ia, a, ind)`` = identity. The two groups of axes
    must hold the same number of elements; integers become float64. Differentiable (needs
    the matrix form invertible)."""
    x = _float(a)
    ind = operator.index(ind)
    if ind <= 0:
        raise ValueError(f"tensorinv: ind must be a positive integer; got {ind}")
    s = _shape(x)
    rows = math.prod(s[:ind])
    cols = math.prod(s[ind:])
    if rows != cols or rows == 0:
        raise ShapeError(f"tensorinv: the first {ind} axes of a (shape {s}) must hold as many "
                         f"elements as the rest, and some: got {rows} and {cols}")
    ia = _la.inv(_st.reshape(x, (rows, cols)))
    return _st.reshape(ia, s[ind:] + s[:ind])


def tensorsolve(a, b, axes=None):
    """The solution ``x`` of ``tensordot(a, x, x.ndim) = b``: ``x`` has the shape of the
    trailing axes of ``a`` after its leading ``b.ndim`` axes (which must match ``b``'s
    shape). ``axes`` lists axes of ``a`` to move to the end first (non-negative, as in
    NumPy). Integers become float64. Differentiable in ``a`` and ``b`` (needs the matrix
    form invertible)."""
    a, b = _float(a), _float(b)
    (a, b), _ = _promote_arrays([a, b])
    na = len(_shape(a))
    if axes is not None:
        order = list(range(na))
        for k in (axes if not isinstance(axes, int) else (axes,)):
            k = operator.index(k)
            if k not in order:
                raise ValueError(f"tensorsolve: axes must list distinct axes of a (0 to "
                                 f"{na - 1}); got {axes}")
            order.remove(k)
            order.append(k)
        a = _st.transpose(a, tuple(order))
    sa, sb = _shape(a), _shape(b)
    rest = sa[len(sb) - na:] if len(sb) != na else sa
    n = math.prod(rest)
    if math.prod(sa) != n * n or math.prod(sb) != n:
        raise ShapeError(f"tensorsolve: a (shape {sa}) must split into b's shape {sb} and "
                         f"trailing axes holding as many elements; it does not")
    x = _la.solve(_st.reshape(a, (n, n)), _st.reshape(b, (n, 1)))
    return _st.reshape(x, rest)
