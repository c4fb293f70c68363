"""NumPy's polynomial functions on coefficient arrays (highest power first, the functions
beside ``poly1d``): ``polyadd``, ``polysub``, ``polymul``, ``polydiv``, ``polyder``,
``polyint``, ``poly`` and ``roots``, with NumPy's semantics, differentiable in the
coefficients and built on the namespace's own functions.

Dtypes follow NumPy's promotion (a float32 polynomial differentiated or integrated becomes
float64, as NumPy's product with its int64 ``arange`` gives). Coefficient arrays are 1-d (or
Python scalars and lists); NumPy's rarely used broadcasting of 2-d coefficient arrays is
refused with a ValueError. Where NumPy's result depends on the values (the leading zeros
``polymul`` drops from its inputs and ``polydiv`` trims from its remainder, whether ``poly``
of complex roots is real, ``roots``) the docstring says what happens when the values are not
available (under ``jit``, ``vmap``).
"""

from __future__ import annotations

import operator

import numpy as _np  # NumPy's promotion rules and type codes, on dtype names only

from .. import dtypes as _dt
from ..errors import ConcretizationError
from ..primitives import structural as _st
from ._base import (_dtype, _shape, add, astype, concat, divide, equal, less,
                    less_equal, multiply, negative, subtract)
from ._elementwise import abs, conj, imag, logical_or, real
from ._statistics import all as _all

__all__ = ["polyadd", "polysub", "polymul", "polydiv", "polyder", "polyint", "poly", "roots"]

# -- helpers -----------------------------------------------------------------------------------


def _np_type(*dts):
    """The dtype NumPy's promotion gives arrays of these functrans dtypes."""
    names = [_np.dtype(d.name) for d in dts]
    return _dt.as_dtype(_np.result_type(*names).name)


def _coeffs(name, *ps):
    """The coefficient arguments as 1-d arrays (NumPy's ``atleast_1d``), Python values made
    next to the first array among them."""
    from ._mathematics import _plain_next_to
    out = []
    for p in _plain_next_to(*(_np_poly1d(p) for p in ps)):
        nd = len(_shape(p))
        if nd == 0:
            p = _st.reshape(p, (1,))
        elif nd > 1:
            raise ValueError(f"{name}: coefficient arrays must be one-dimensional (or scalars); "
                             f"got shape {_shape(p)}")
        out.append(p)
    return out


def _np_poly1d(p):
    """NumPy's ``poly1d`` as its coefficient array (the results are arrays, not poly1d)."""
    return p.coeffs if isinstance(p, _np.poly1d) else p


def _cast(x, d):
    return x if _dtype(x) is d else astype(x, d)


def _zeros(like, n, d):
    """``n`` zeros of dtype ``d`` next to ``like``."""
    from ._mathematics import _like
    return _st.broadcast_to(_like(like, 0, d), (n,))


def _arange_down(like, n, d):
    """``[n, n-1, ..., 1]`` of dtype ``d`` next to ``like`` (NumPy's ``arange(n, 0, -1)``)."""
    return _cast(subtract(n, _st.iota(like, n)), d)


def _static_int(x):
    """``int(x)`` where the value is available (plain arrays, ``grad``/``jvp`` tracers), else
    None (under ``jit`` or ``vmap``)."""
    try:
        return int(x)
    except ConcretizationError:
        return None


def _static_bool(x):
    try:
        return bool(x)
    except ConcretizationError:
        return None


def _pad_front(p, n):
    return p if n == 0 else concat([_zeros(p, n, _dtype(p)), p])

# -- arithmetic --------------------------------------------------------------------------------


def _add_or_sub(name, a1, a2, op):
    a1, a2 = _coeffs(name, a1, a2)
    d = _np_type(_dtype(a1), _dtype(a2))
    if d.kind == "b" and op is subtract:
        raise TypeError("polysub: boolean subtraction is not supported (as in NumPy); cast "
                        "the coefficients to an integer or float dtype")
    a1, a2 = _cast(a1, d), _cast(a2, d)
    n1, n2 = _shape(a1)[0], _shape(a2)[0]
    a1, a2 = _pad_front(a1, max(n2 - n1, 0)), _pad_front(a2, max(n1 - n2, 0))
    if d.kind == "b":
        return logical_or(a1, a2)
    return op(a1, a2)


def polyadd(a1, a2):
    """The sum of two polynomials (coefficient arrays, highest power first): the shorter is
    padded with leading zeros. Differentiable in both."""
    return _add_or_sub("polyadd", a1, a2, add)


def polysub(a1, a2):
    """The difference ``a1 - a2`` of two polynomials (coefficient arrays, highest power
    first): the shorter is padded with leading zeros. Differentiable in both."""
    return _add_or_sub("polysub", a1, a2, subtract)


def polymul(a1, a2, *, trim_leading_zeros=True):
    """The product of two polynomials (coefficient arrays, highest power first): the full
    convolution of the two after dropping their leading exact zeros (an all-zero polynomial
    becomes ``[0]``), as NumPy does through ``poly1d``. Differentiable in both.

    Difference from NumPy: dropping the leading zeros needs the values. Under ``jit`` or
    ``vmap`` (no values) nothing is dropped, so leading zeros in the inputs give leading
    zeros in the result (its values are otherwise NumPy's). ``trim_leading_zeros=False``
    (jax.numpy's default) keeps them always: the full convolution of the inputs as given."""
    from ._mathematics import convolve
    a1, a2 = _coeffs("polymul", a1, a2)
    if trim_leading_zeros:
        a1, a2 = _trim_zeros(a1), _trim_zeros(a2)
    d = _np_type(_dtype(a1), _dtype(a2))
    return convolve(_cast(a1, d), _cast(a2, d))


def _trim_zeros(p):
    """``p`` without its leading exact zeros (``[0]`` if all are), where values are
    available; ``p`` itself under ``jit`` or ``vmap``."""
    from ._statistics import cumulative_prod, sum
    n = _shape(p)[0]
    if n == 0:
        return _zeros(p, 1, _dtype(p))
    lead = _static_int(sum(cumulative_prod(astype(equal(p, 0), _dt.int64))))
    if not lead:
        return p
    lead = min(lead, n - 1)
    return _st.slice_(p, ((lead, n, 1),))


def polydiv(u, v, *, trim_leading_zeros=True):
    """Quotient and remainder of the polynomial division ``u / v`` (coefficient arrays,
    highest power first), by NumPy's elimination: the results are floating point (integers
    become float64), the quotient has length ``max(len(u) - len(v) + 1, 1)`` and the remainder
    loses its leading entries of magnitude at most 1e-8 (keeping at least one), as NumPy
    trims them. Differentiable in ``u`` and ``v``.

    Difference from NumPy: that trimming needs the values. Under ``jit`` or ``vmap`` (no
    values) nothing is trimmed by value: the remainder keeps its static length,
    ``max(len(v) - 1, 1)`` entries (the eliminated leading entries, zero up to rounding, are
    dropped), or ``len(u)`` when ``u`` is shorter than ``v``; with values (plain arrays,
    ``grad``, ``jvp``) the result is NumPy's. ``trim_leading_zeros=False`` (jax.numpy's
    default) keeps the whole remainder, of ``u``'s length (its eliminated leading entries
    zero up to rounding), as jax.numpy's."""
    u, v = _coeffs("polydiv", u, v)
    for x, what in ((u, "u"), (v, "v")):
        if _shape(x)[0] == 0:
            raise ValueError(f"polydiv: {what} must have at least one coefficient")
    fu = _np_type(_dtype(u), _dt.float64) if _dtype(u).kind not in "fc" else _dtype(u)
    fv = _np_type(_dtype(v), _dt.float64) if _dtype(v).kind not in "fc" else _dtype(v)
    u, v = _cast(u, fu), _cast(v, fv)
    w = _np_type(fu, fv)
    m, n = _shape(u)[0] - 1, _shape(v)[0] - 1
    from ._mathematics import _at, _sl
    scale = _cast(divide(1.0, _at(v, 0)), w)
    vw = _cast(v, w)
    r = _cast(u, w)
    qs = []
    for k in range(m - n + 1):
        d = multiply(scale, _at(r, k))
        qs.append(_st.reshape(d, (1,)))
        window = subtract(_sl(r, k, k + n + 1), multiply(d, vw))
        r = concat([p for p in (_sl(r, 0, k), window, _sl(r, k + n + 1, m + 1))
                    if _shape(p)[0]])
    q = concat(qs) if qs else _zeros(r, 1, w)
    length = _shape(r)[0]
    if not trim_leading_zeros:
        return q, r
    lead = _static_int(_leading_small(r))
    if lead is None:  # no values: drop only the eliminated entries
        lead = max(m - n + 1, 0) if n >= 1 else m
    lead = min(lead, length - 1)
    return q, (_sl(r, lead, length) if lead else r)


def _leading_small(r):
    """How many leading entries of ``r`` NumPy's ``allclose(r[0], 0, rtol=1e-14)`` trims
    (an integer array: not yet capped)."""
    from ._statistics import cumulative_prod, sum
    small = less_equal(abs(r), 1e-8)
    return sum(cumulative_prod(astype(small, _dt.int64)))

# -- calculus ----------------------------------------------------------------------------------


def _one_poly(name, p):
    from ._mathematics import _operand
    p = _operand(_np_poly1d(p))
    if len(_shape(p)) != 1:
        if len(_shape(p)) == 0:
            raise TypeError(f"{name}: p must be a one-dimensional coefficient array (NumPy "
                            f"takes its len()); got a 0-d value")
        raise ValueError(f"{name}: p must be a one-dimensional coefficient array; got shape "
                         f"{_shape(p)}")
    return p


def _order(name, m, other):
    m = operator.index(m) if not isinstance(m, float) else int(m)
    if m < 0:
        raise ValueError(f"{name}: the order m must be non-negative (see {other}); got {m}")
    return m


def polyder(p, m=1):
    """The ``m``-th derivative of the polynomial with coefficients ``p`` (highest power
    first): ``m`` coefficients shorter (empty when that many or more). The dtype is what
    NumPy's product with its int64 ``arange`` gives (int64 for integers and booleans,
    float64 for float32). ``m = 0`` returns ``p`` itself. Differentiable in ``p``."""
    m = _order("polyder", m, "polyint")
    p = _one_poly("polyder", p)
    if m == 0:
        return p
    d = _np_type(_dtype(p), _dt.int64)
    y = _cast(p, d)
    for _ in range(m):
        n = _shape(y)[0] - 1
        if n <= 0:
            y = _st.slice_(y, ((0, 0, 1),))
            continue
        y = multiply(_st.slice_(y, ((0, n, 1),)), _arange_down(y, n, d))
    return y


def polyint(p, m=1, k=None):
    """The ``m``-th antiderivative of the polynomial with coefficients ``p`` (highest power
    first), ``m`` coefficients longer, with integration constants ``k`` (a scalar, used for
    every integration, or a sequence of at least ``m`` values, the first for the first
    integration; zeros by default). Floating point as NumPy gives it (float64 for integers
    and float32, complex128 for complex64). ``m = 0`` returns ``p`` itself. Differentiable
    in ``p`` and ``k``. As in NumPy, ``m = 0`` accepts a ``p`` of any shape (a 0-d one
    too) and returns it as an array; ``m >= 1`` needs a 1-d ``p`` (a 0-d one is a
    TypeError, as NumPy's ``len()`` of it)."""
    m = _order("polyint", m, "polyder")
    from ._mathematics import _at, _operand, _plain_next_to
    p = _np_poly1d(p)
    if isinstance(p, _np.generic):  # a NumPy scalar: a 0-d array, as NumPy's asarray
        from ._base import _to_array
        p = _to_array(p, dtype=_dt.as_dtype(p.dtype))
    p = _operand(p)
    if k is None:
        k = _zeros(p, max(m, 0), _dt.float64)
    k = _plain_next_to(k, p)[0]
    nk = len(_shape(k))
    if nk == 0:
        k = _st.reshape(k, (1,))
    elif nk > 1:
        raise ValueError(f"polyint: k must be a scalar or a one-dimensional sequence; got "
                         f"shape {_shape(k)}")
    if _shape(k)[0] == 1 and m > 1:
        k = _st.broadcast_to(k, (m,))
    if _shape(k)[0] < m:
        raise ValueError(f"polyint: k must be a scalar or a one-dimensional sequence of "
                         f"length 1 or at least m = {m}; got length {_shape(k)[0]}")
    if m == 0:
        return p
    p = _one_poly("polyint", p)
    d = _np_type(_dtype(p), _dt.int64)
    if d.kind not in "fc":
        d = _dt.float64
    y = _cast(p, d)
    for i in range(m):
        n = _shape(y)[0]
        quotient = divide(y, _arange_down(y, n, _dtype(y))) if n else y
        ki = _st.reshape(_at(k, i), (1,))
        dt = _np_type(_dtype(quotient), _dtype(ki))
        y = concat([_cast(quotient, dt), _cast(ki, dt)])
    return y

# -- roots and coefficients --------------------------------------------------------------------


_MINTYPE = {"f": _dt.float32, "d": _dt.float64, "F": _dt.complex64, "D": _dt.complex128}


def poly(seq_of_zeros):
    """The coefficients (highest power first, leading 1) of the monic polynomial with the
    given zeros; for a non-empty square matrix, of its characteristic polynomial (the zeros
    are its eigenvalues, :func:`linalg.eigvals`). Integers become float64. An empty sequence
    gives the Python float 1.0, as in NumPy. For complex zeros that come in conjugate pairs
    the result is real (its real part), as NumPy gives. Differentiable in the zeros.

    Difference from NumPy: whether complex zeros pair up needs the values. Under ``jit`` or
    ``vmap`` (no values) the result stays complex."""
    from ._mathematics import _at, _operand, _sl
    z = _operand(seq_of_zeros)
    s = _shape(z)
    if len(s) == 0:
        z, s = _st.reshape(z, (1,)), (1,)
    if len(s) == 2 and s[0] == s[1] and s[0] != 0:
        from .linalg import eigvals
        z = eigvals(z)
    elif len(s) == 1:
        code = _np.dtype(_dtype(z).name).char
        z = _cast(z, _MINTYPE.get(code, _dt.float64))
    else:
        raise ValueError(f"poly: input must be 1d or non-empty square 2d array; got shape {s}")
    n = _shape(z)[0]
    if n == 0:
        return 1.0
    d = _dtype(z)
    from ._mathematics import _like
    one = _st.reshape(_like(z, 1, d), (1,))
    a = one
    for i in range(n):  # a * (x - z_i), without products with a zero pad (z_i may be inf)
        zi = _st.reshape(_at(z, i), (1,))
        k = _shape(a)[0]
        middle = subtract(_sl(a, 1, k), multiply(zi, _sl(a, 0, k - 1))) if k > 1 else None
        last = negative(multiply(zi, _sl(a, k - 1, k)))
        a = concat([p for p in (_sl(a, 0, 1), middle, last) if p is not None])
    if d.kind == "c":
        paired = _static_bool(_conjugate_pairs(z))
        if paired:
            a = real(a)
    return a


def _conjugate_pairs(z):
    """Whether the multiset of ``z`` equals that of its conjugates (no NaN): a 0-d bool."""
    n = _shape(z)[0]
    col = _st.reshape(z, (n, 1))
    row = _st.reshape(z, (1, n))
    from ._statistics import sum
    same = sum(astype(equal(col, row), _dt.int64), axis=1)
    conjugated = sum(astype(equal(col, conj(row)), _dt.int64), axis=1)
    from ._elementwise import logical_and
    return logical_and(_all(equal(same, conjugated)), _all(equal(z, z)))


def roots(p, *, strip_zeros=True):
    """The roots of the polynomial with coefficients ``p`` (highest power first): the
    eigenvalues of its companion matrix (:func:`linalg.eigvals`), after dropping the leading
    zeros and taking each trailing zero as a zero root, as NumPy does. Real (float64, or
    float32 for float32 ``p``) when every root is real, else complex, as NumPy gives; no
    coefficient other than zero gives an empty float64 array. Differentiable where the roots
    are distinct. Needs the values (which coefficients are zero decides the result's shape):
    under ``jit`` or ``vmap`` a ConcretizationError. Backends without ``eig`` (array-api-strict)
    raise as :func:`linalg.eigvals` does.

    ``strip_zeros=False`` (``jax.numpy``'s keyword) needs no values, so it works under
    ``jit`` and ``vmap``: always ``len(p) - 1`` complex roots (complex64 for float32 or
    complex64 ``p``, else complex128), each leading zero of ``p`` giving a NaN root in place
    of the root a polynomial of that degree would have; the roots' order is unspecified."""
    from ._mathematics import _operand, _sl
    from ._statistics import cumulative_prod, sum
    from .linalg import eigvals
    p = _operand(_np_poly1d(p))
    if len(_shape(p)) == 0:
        p = _st.reshape(p, (1,))
    if len(_shape(p)) != 1:
        raise ValueError(f"roots: input must be a rank-1 array; got shape {_shape(p)}")
    if not strip_zeros:
        return _roots_keeping_zeros(p)
    n = _shape(p)[0]
    zero = astype(equal(p, 0), _dt.int64)
    try:
        lead = int(sum(cumulative_prod(zero))) if n else 0
    except ConcretizationError as e:
        raise ConcretizationError(
            f"roots drops p's leading and trailing zeros, so the number of roots depends on "
            f"the values, which are not known here: pass strip_zeros=False (jax.numpy's "
            f"keyword: len(p) - 1 complex roots, NaN for a leading zero) under jit or vmap. "
            f"({e.message})") from None
    if lead == n:
        return _zeros(p, 0, _dt.float64)
    trail = int(sum(cumulative_prod(_st.flip(zero, (0,)))))
    p = _sl(p, lead, n - trail)
    if _dtype(p).kind not in "fc":
        p = astype(p, _dt.float64)
    d = _dtype(p)
    m = _shape(p)[0]
    if m > 1:
        first = _st.reshape(negative(divide(_sl(p, 1, m), _sl(p, 0, 1))), (1, m - 1))
        i = _st.reshape(_st.iota(p, m - 2), (m - 2, 1))
        j = _st.reshape(_st.iota(p, m - 1), (1, m - 1))
        companion = concat([first, astype(equal(i, j), d)], axis=0)
        r = eigvals(companion)
        if d.kind == "f" and bool(_all(equal(imag(r), 0))):
            r = real(r)
    else:
        r = _zeros(p, 0, _dt.float64)
    return concat([r, _zeros(r, trail, _dtype(r))]) if trail else r


def _roots_keeping_zeros(p):
    """``roots(p, strip_zeros=False)``: the eigenvalues of ``blockdiag(C, 0)``, ``C`` the
    companion matrix of ``p`` without its ``L`` leading zeros and the zero block ``L x L``
    (built with masks: ``L`` may be traced); its ``L`` zero eigenvalues (sorted first by
    magnitude; a true zero root is zero too) become NaN."""
    from ._base import where
    from ._elementwise import logical_and
    from ._indexing import take
    from ._searching import argsort
    from ._statistics import cumulative_prod, sum
    from .linalg import eigvals
    n = _shape(p)[0]
    d = _dtype(p)
    cd = _dt.complex64 if d.name in ("float16", "float32", "complex64") else _dt.complex128
    if n <= 1:
        return _zeros(p, 0, cd)
    p = _cast(p, cd if d.kind == "c" else _dt.real_dtype(cd))
    k = n - 1
    lead = sum(cumulative_prod(astype(equal(p, 0), _dt.int64)))  # L
    size = subtract(k, lead)  # the degree without the leading zeros (0 for all zeros)
    j = _st.iota(p, k)
    inside = less(j, size)
    first = take(p, where(less(lead, n), lead, 0), axis=0)  # p[L]
    first = where(equal(first, 0), 1, first)  # (p all zeros: no row is used)
    row = where(inside, negative(divide(take(p, where(inside, add(j, add(lead, 1)), 0),
                                             axis=0), first)), 0)
    col, lin = _st.reshape(j, (k, 1)), _st.reshape(j, (1, k))
    ones_below = astype(logical_and(equal(col, add(lin, 1)), less(col, size)), _dtype(p))
    companion = where(equal(col, 0), _st.reshape(row, (1, k)), ones_below)
    r = astype(eigvals(companion), cd)
    r = take(r, argsort(abs(r), stable=True), axis=0)
    return where(less(j, lead), _cast(_zeros(r, 1, cd) + float("nan"), cd), r)
