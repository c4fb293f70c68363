"""functrans.scipy.special: SciPy's special functions, differentiable to any order.

``import functrans.scipy.special as fsp``. The functions take SciPy's names and arguments and
give SciPy's values, shapes and dtypes for real input, on plain arrays of every backend
(NumPy, array-api-strict, torch, CuPy; results are arrays of the input's library, on its
device) and on tracers inside every transform (grad, jvp, vjp, vmap, jit, hessian...).

Conventions shared by all:

- Real input only: integers and booleans are promoted to float64 (to float32 for the small
  ones where SciPy does so: ``erfinv``, ``ndtri``, ``entr``), Python numbers give float64
  arrays of the default backend, complex input is a TypeError.
- No ``out=``, ``where=`` or other ufunc keywords; the arguments are positional, as SciPy's
  ufuncs take them.
- Values are those of the backend's own special functions where it has them (SciPy on NumPy,
  ``torch.special``, ``cupyx.scipy.special``) and of :mod:`functrans.backends.generic`
  elsewhere; at poles and infinities of ``gammaln``, ``digamma`` and ``polygamma`` the
  libraries may differ from SciPy (nan versus +-inf).
"""

from __future__ import annotations

import functools
import math
import operator

import numpy as _np

from .. import dtypes as _dt
from .. import numpy as fnp
from ..numpy._base import (_SCALARS, _as_operand, _dtype, _normalize_axes,
                           _numpy_scalars_moved, _to_array)
from ..backends import backend_of as _backend_of, generic as _generic
from ..backends.numpy_backend import (AtArray as _AtArray, plain as _plain_numpy,
                                      where as _numpy_where)
from ..core import concrete_behind as _concrete_behind
from ..backends import incomplete_grads as _incomplete_grads
from ..primitives import special as _sp
from ..primitives import structural as _st
from ..primitives.elementwise import mul_sz as _mul_sz
from ..core import Tracer as _Tracer
from ..custom import SymbolicZero as _SymbolicZero
from ..interpreters import ConstTracer as _ConstTracer, PairTracer as _PairTracer

__all__ = ["erf", "erfc", "erfinv", "gammaln", "digamma", "psi", "polygamma", "gamma",
           "beta", "betaln", "logsumexp", "softmax", "log_softmax", "expit", "logit",
           "log_expit", "xlogy", "xlog1py", "entr", "ndtr", "ndtri", "log_ndtr",
           "gammainc", "gammaincc", "betainc", "gammaincinv", "gammainccinv", "betaincinv",
           # special14
           "erfcx", "i0", "i0e", "i1", "i1e", "exp1", "expi", "expn", "dawsn", "zeta",
           "loggamma", "gammasgn", "multigammaln", "poch", "factorial", "comb", "boxcox",
           "boxcox1p", "kl_div", "rel_entr",
           # special14b
           "spence", "sici", "fresnel", "owens_t", "bernoulli",
           # special15
           "wofz", "hyp1f1",
           # special15b
           "hyp2f1", "jv", "bessel_jn", "sph_harm_y",
           # special18
           "betaincc", "stdtr", "stdtrit", "chdtr", "chdtrc", "chdtri", "gdtr", "gdtrc",
           "pdtr", "pdtrc", "pdtri", "fdtr", "fdtrc", "fdtri", "bdtr", "bdtrc", "bdtri",
           "nbdtr", "nbdtrc", "nbdtri",
           # special18b
           "cbrt", "sindg", "cosdg", "tandg", "cotdg", "radian", "cosm1", "exp2", "exp10",
           "exprel", "rgamma", "sinc", "inv_boxcox", "inv_boxcox1p", "huber", "pseudo_huber",
           "binom", "zetac",
           # special18c
           "j0", "j1", "y0", "y1", "yn", "k0", "k0e", "k1", "k1e",
           # special18d
           "ellipk", "ellipkm1", "ellipe",
           # special18e
           "lpmv",
           # autograd's test suite
           "erfcinv", "jn",
           # session 22
           "iv", "ive"]

_SQRT1_2 = math.sqrt(0.5)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_inf = math.inf
# Integer dtypes that SciPy's ufuncs with a float32 loop first (erfinv, ndtri, entr) turn
# into float32.
_SMALL = frozenset(("bool", "int8", "uint8", "int16", "uint16"))
_HALF = frozenset(_dt.HALF)   # (membership by identity: no DType.__eq__ calls)
# NumPy's arrays and functrans.numpy's (AtArray, whose results are plain): the functions'
# plain-NumPy forms take them
_NUMPY_TYPES = frozenset((_np.ndarray, _AtArray))


def _array_like(x):
    """A list or tuple (SciPy's array-likes) as an array, of the library of the arrays given
    beside it; anything else as it is."""
    t = type(x)
    return _as_operand(x) if t is list or t is tuple else x


def _real(x, name, small_to_float32=False):
    """``x`` as a real floating array: integers and booleans promoted, complex refused."""
    x = _array_like(x)
    if type(x) in _SCALARS:
        if type(x) is complex:
            raise TypeError(f"{name}: complex input is not supported (real only)")
        return _to_array(x, _dt.float64)  # (x itself: see numpy._base._user_data)
    d = _dtype(x)
    if d.kind == "f":
        return x
    if d.kind == "c":
        raise TypeError(f"{name}: complex input ({d.name}) is not supported; functrans's "
                        f"special functions are defined for real floating input only")
    target = _dt.float32 if small_to_float32 and d.name in _SMALL else _dt.float64
    return _st.convert_element_type(x, target)


def _real_scalar(v, name):
    if type(v) is complex:
        raise TypeError(f"{name}: complex input is not supported (real only)")
    return float(v)


def _size(x):
    return math.prod(tuple(x.shape))  # (torch's .size is a method)


def _real_pair(x, y, name):
    """Two operands as SciPy's binary ufuncs see them: float32 only where both are float32
    arrays, float64 otherwise (Python numbers count as float64); broadcast together."""
    # A Python number becomes a float64 array like the other operand (its backend and
    # device); two Python numbers, arrays of the default backend.
    x, y = _numpy_scalars_moved((_array_like(x), _array_like(y)))
    if type(x) in _SCALARS and type(y) not in _SCALARS:
        x = fnp.full_like(_real(y, name), _real_scalar(x, name), dtype=_dt.float64)
    elif type(y) in _SCALARS and type(x) not in _SCALARS:
        y = fnp.full_like(_real(x, name), _real_scalar(y, name), dtype=_dt.float64)
    x, y = _real(x, name), _real(y, name)
    if _dtype(x) is not _dtype(y):
        x, y = fnp.astype(x, _dt.float64), fnp.astype(y, _dt.float64)
    return fnp.broadcast_arrays(x, y)


def _real_many(args, name):
    """Operands as SciPy's ufuncs of several arguments see them (see :func:`_real_pair`):
    float32 only where all are float32 arrays; broadcast together."""
    args = _numpy_scalars_moved([_array_like(a) for a in args])
    arrays = [a for a in args if type(a) not in _SCALARS]
    if not arrays:
        args = [_real(a, name) for a in args]
    else:
        first = _real(arrays[0], name)
        args = [fnp.full_like(first, _real_scalar(a, name), dtype=_dt.float64)
                if type(a) in _SCALARS else _real(a, name) for a in args]
    if len({_dtype(a) for a in args}) > 1:
        args = [fnp.astype(a, _dt.float64) for a in args]
    return fnp.broadcast_arrays(*args)


def _where(cond, a, b):
    # (at least one of a, b is an array: fnp.where makes two Python numbers an array of the
    # default backend)
    return fnp.where(cond, a, b)


# -- error function and gamma family -----------------------------------------------------------


def erf(x, /):
    """The error function, ``2/sqrt(pi) * integral_0^x exp(-t**2) dt``, elementwise.

    Derivative: ``2/sqrt(pi) * exp(-x**2)`` (float32: in float64, within half an ulp;
    float64: with ``x**2`` exact where some ``|x| >= 4``, within 2 ulp (the rounded square
    costs up to ``x**2 / 2`` ulp: 480 near 24), the plain form where every ``|x| < 4``, at
    most 8 ulp; the choice reads one maximum on the host for NumPy and CPU arrays, and takes
    the exact square throughout on a device). The generic version (array-api-strict) is
    ``1 - erfc(|x|)`` from 0.5, see :func:`erfc`. Complex input (as SciPy's; JAX's refuses
    it) goes through :func:`wofz`, see :func:`_erf_complex`."""
    if _is_complex(x):
        return _erf_complex(x, False)
    return _sp.erf(_real(x, "erf"))


def erfc(x, /):
    """The complementary error function ``1 - erf(x)``, accurate where ``erf(x)`` is close to
    1 (large positive ``x``): from 3.5 (NumPy's SciPy, the generic one) as ``erfcx(x) *
    exp(-x**2)`` with ``x**2`` exact, within a few ulp (SciPy's own took ``exp`` of the
    rounded ``x**2``: 500 ulp near 26); the generic one likewise on [0.5, 1.5) with erfcx
    from its Taylor polynomials (``1 - erf`` cancelled there: 121 ulp near 1.4), within 2
    ulp. Derivative: :func:`erf`'s, negated. Complex input as :func:`erf`'s."""
    if _is_complex(x):
        return _erf_complex(x, True)
    return _sp.erfc(_real(x, "erfc"))


def _is_complex(x):
    x = _array_like(x)
    return type(x) is complex or (type(x) not in _SCALARS and _dtype(x).kind == "c")


_ERF_SERIES_TERMS = 30  # (|z| <= 1: the last term below 1e-33)


def _erf_complex(z, complement):
    """erf (erfc) of complex ``z``, holomorphic (``jvp``/``vjp`` as :func:`wofz`'s): the
    Taylor series ``2/sqrt(pi) sum_n (-1)^n z^(2n+1) / (n! (2n+1))`` for ``|z| <= 1`` (where
    ``1 - erfc`` would cancel), else ``erfc(z) = exp(-z^2) w(iz)`` on the half plane
    ``Re z >= 0`` (``w`` in the upper half plane) and ``erf(-z) = -erf(z)``. complex64 is
    computed in complex128 and rounded; overflow where ``Re(z)^2 - Im(z)^2`` is below about
    -709, as the function's own size."""
    z = _array_like(z)
    if type(z) in _SCALARS:
        z = _to_array(z, _dt.complex128)
    if _dtype(z) is _dt.complex64:
        return fnp.astype(_erf_complex(fnp.astype(z, _dt.complex128), complement),
                          _dt.complex64)
    size = fnp.abs(fnp.stop_gradient(z))
    small = size <= 1.0
    flip = fnp.real(fnp.stop_gradient(z)) < 0.0
    # (each branch on points where it is finite: the other's derivative is selected away)
    zs = _where(small, z, fnp.zeros_like(z))
    zb = _where(small, fnp.ones_like(z), _where(flip, -z, z))
    z2 = zs * zs
    term, total = zs, zs
    for n in range(1, _ERF_SERIES_TERMS + 1):
        term = term * -z2 / float(n)
        total = total + term / float(2 * n + 1)
    series = total * (2.0 / _SQRT_PI)
    tail = fnp.exp(-(zb * zb)) * wofz(zb * 1j)  # erfc(zb), zb in Re >= 0
    if complement:
        return _where(small, 1.0 - series, _where(flip, 2.0 - tail, tail))
    return _where(small, series, _where(flip, tail - 1.0, 1.0 - tail))


def erfinv(y, /):
    """The inverse error function: the ``x`` with ``erf(x) = y``, for ``y`` in [-1, 1].

    ``erfinv(+-1) = +-inf``; nan outside [-1, 1]. Derivative:
    ``sqrt(pi)/2 * exp(erfinv(y)**2)`` (infinite at +-1), where some ``|erfinv(y)| >= 2`` as
    ``sqrt(pi)/2 * erfcx(|x|) / (1 - |y|)`` (``x = erfinv(y)``; within a few ulp: the
    exponential of the rounded ``x`` was ``2 |x|`` times its error off, 110 ulp near 1)."""
    return _sp.erfinv(_real(y, "erfinv", small_to_float32=True))


def gammaln(x, /):
    """The logarithm of the absolute value of the gamma function, ``log|Gamma(x)|``.

    Derivative: ``digamma(x)``. ``inf`` at the poles (0, -1, -2, ...) and at ``-inf``, as
    C99's ``lgamma``, torch and JAX (SciPy gives ``-inf`` there); ``-log|x|`` at subnormal
    ``x`` (SciPy's is ``inf`` below about 5.5e-309)."""
    x = _real(x, "gammaln")
    # (+inf at -inf whatever the library: CuPy's may follow SciPy's -inf)
    return _where(x == -_inf, _inf, _sp.lgamma(x))


def digamma(z, /):
    """The digamma function ``psi(z) = d/dz log Gamma(z)``, elementwise on real ``z``.

    Derivative: ``polygamma(1, z)``. At 0: ``-inf`` (``+inf`` at ``-0.0``); at the negative
    integers: nan. Within 5 ulp for ``z < 0``, also near its roots (on (-100, 0) by a table
    of the roots, below -100 in double-double there: docs/api/scipy.md)."""
    return _sp.digamma(_real(z, "digamma"))


psi = digamma


def polygamma(n, x, /):
    """The polygamma function: the ``n``-th derivative of ``digamma`` at ``x``.

    ``n`` is a non-negative Python integer (negative: ValueError rather than SciPy's nan), or
    a concrete array of orders broadcast against ``x`` (as SciPy and JAX take it: each order
    present is computed once and selected; nan where an order is negative, not integral or
    not finite, as SciPy; a traced array of orders: TypeError). The result is float64
    whatever the floating dtype of ``x``, as SciPy gives it. Derivative:
    ``polygamma(n + 1, x)``; none in ``n``. At the poles (0, -0.0, the negative integers,
    -inf) ``(-1)^(n+1) inf`` and at ``inf`` ``(-1)^(n+1) 0`` for ``n >= 1``, as SciPy, on
    every backend."""
    if _is_order_array(n):
        return _by_order("polygamma", n, x, lambda k, x: polygamma(k, x),
                         lambda v: v >= 0 and v == math.floor(v))
    try:
        order = operator.index(n)
    except TypeError:
        raise TypeError(f"polygamma: n must be a Python int or an integer array of orders; "
                        f"got {type(n).__name__}") from None
    if order < 0:
        raise ValueError(f"polygamma: n must be >= 0; got {order}")
    x = fnp.astype(_real(x, "polygamma"), _dt.float64)
    return _sp.polygamma(x, n=order)


def _is_order_array(n):
    n = _array_like(n)
    return type(n) not in _SCALARS and not isinstance(n, (bool, int, float))


def _by_order(name, n, x, one, valid):
    """``one(k, x)`` for each order ``k`` of the concrete array ``n`` (``int(k)`` where
    ``valid(k)``, else nan: an infinite or nan order too, as SciPy's), selected elementwise:
    broadcast over ``n`` and ``x``, float64."""
    n = _array_like(n)
    from ..interpreters import ConstTracer
    if type(n) is ConstTracer:  # (orders made inside a transform: concrete)
        n = n.primal
    if isinstance(n, _Tracer):
        raise TypeError(f"{name}: the orders n must be concrete (a Python int or an array "
                        f"holding values, not a traced one): each order present is computed "
                        f"once; the function has no derivative in n")
    if _dtype(n).kind == "c":
        raise TypeError(f"{name}: complex orders ({_dtype(n).name}) are not supported")
    values = sorted({v for v in _concrete_values(n) if math.isfinite(v)})
    nf, x = _real_weak((fnp.astype(n, _dt.float64), _real(x, name)), name)
    nf, x = fnp.stop_gradient(nf), fnp.astype(x, _dt.float64)
    out = fnp.full_like(x, math.nan)
    for v in values:
        if valid(v):
            out = _where(nf == v, one(int(v), x), out)
    return out


def _gamma_sign(x):
    """The sign of Gamma(x): -1 on the intervals (-1, 0), (-3, -2), ..., else 1."""
    odd = (x < 0.0) & (fnp.remainder(fnp.floor(x), 2.0) == 1.0)
    return 1.0 - 2.0 * fnp.astype(odd, _dtype(x))


def gamma(z, /):
    """The gamma function for real ``z``: ``sign * exp(gammaln(z))``.

    Negative non-integers get the sign of the reflection formula; ``gamma(+-0) = +-inf``;
    nan at the negative integers and at ``-inf``; ``inf`` above 171.6 (overflow), as SciPy.
    The relative error grows like ``|gammaln(z)| * eps`` (about 1e-13 near z = 170).
    Derivative: ``gamma(z) * digamma(z)``. float32 input is computed in float64 and
    rounded once, as SciPy's (exp of a float32 gammaln was off by tens of ulps: 46 at
    -27.39)."""
    def f(z):
        out = fnp.multiply(fnp.exp(_sp.lgamma(z)), _gamma_sign(z))
        out = _where(z == 0.0, 1.0 / z, out)
        return _where((z < 0.0) & (z == fnp.floor(z)), math.nan, out)
    return _in64(f, _real(z, "gamma"))


def betaln(a, b, /):
    """The logarithm of the absolute value of the beta function,
    ``gammaln(a) + gammaln(b) - gammaln(a + b)``.

    Where the larger argument and the sum are 10 or more (and finite), Stirling's series is
    used for the gamma functions of the larger argument and of the sum, so that their large parts
    cancel exactly: ``betaln(1e30, 1)`` is ``-log(1e30)`` to rounding (the plain formula lost
    everything there); beside the poles (an argument within 1/10 of 0, or one of ``a``, ``b``,
    ``a + b`` within 1/10 of a negative integer) the forms of :func:`_beta_near_zero`, whose
    values and derivatives keep their relative precision (``a + b`` with its rounding error:
    ``betaln(-3.3, -0.7)`` is -32.24, SciPy's ``-inf``), except second derivatives where two
    poles are equally near (``psi'(a) - psi'(a + b)``, inherently: eps over the distance
    squared, absolute); eagerly only (under jit the plain formula: see
    :func:`_beta_near_zero`); elsewhere that formula, whose absolute error is about eps times the
    size of the ``gammaln`` terms. ``-inf`` where one argument is ``inf`` and the other positive
    (finite: SciPy's nan for ``(1e300, inf)``); ``inf`` where it is ``inf`` and the other
    zero or negative, and where an argument is ``-inf`` (SciPy's overflow; nan beside a nan);
    nan where two of ``a``, ``b`` and ``a + b`` are poles together (SciPy gives ``+-inf``,
    or the limit where it exists: ``beta(-3, 2) = 1/6``). A subnormal argument beside a
    negative one: ``betaln`` finite (``betaln(-3.4455, 5e-324) = 744.44``; SciPy's ``inf``),
    ``beta`` ``+-inf``; their derivatives there are nan (the slope in the subnormal
    argument, about ``-1/b``, overflows)."""
    a, b = _real_pair(a, b, "betaln")
    if _dtype(a) in _HALF:
        return _in32_half(_betaln, (a, b))
    return _betaln(a, b)


# Stirling's correction w(z) = lgamma(z) - ((z - 1/2) log z - z + log(2 pi) / 2): its
# asymptotic series in 1/z (odd powers; incomplete_grads' coefficients, each B_2k / (2k (2k - 1))
# rounded once); from z = 10 on, it is good to about 1e-17.
_STIRLING_FROM = 10.0


def _stirling_correction(z):
    return _incomplete_grads._poly_inv(fnp, z, _incomplete_grads._STIRLING, 1)


def _betaln(a, b, near=False):
    """log|B(a, b)|: the plain formula, or where the larger argument ``hi`` is large, the
    large gamma functions by Stirling: for ``lo < 10``,
    ``lgamma(lo) - (hi - 1/2) log1p(lo/hi) - lo log(lo + hi) + lo + w(hi) - w(lo + hi)``; for
    both large, ``log(2 pi)/2 - log(hi)/2 + (lo - 1/2) log(lo/(lo + hi)) - hi log1p(lo/hi)
    + w(lo) + w(hi) - w(lo + hi)``; beside the pole 0 :func:`_beta_near_zero`'s (``near``:
    its result where the caller has it)."""
    if near is False:
        near = _beta_near_zero(a, b, value=False)
    a0, b0 = a, b
    if near is not None:
        # (the plain forms away from near's points: where a + b rounds onto a pole their
        # zero cotangent met an infinite slope, nan)
        a, b = _where(near[0], 2.0, a), _where(near[0], 3.0, b)
    s = fnp.add(a, b)
    plain = fnp.subtract(fnp.add(_sp.lgamma(a), _sp.lgamma(b)), _sp.lgamma(s))
    # (ordered by a selection, not minimum/maximum: at a tie each argument keeps its whole
    # derivative, so that second derivatives stay right there)
    first = fnp.less_equal(a, b)
    lo, hi = _where(first, a, b), _where(first, b, a)
    # (a negative lo too, where lo + hi is large: there the plain formula's large gamma
    # functions cancel as badly, betaln(-2.5, 1e17) was 0)
    big = _all(hi >= _STIRLING_FROM, hi < _inf, fnp.add(lo, hi) >= _STIRLING_FROM)
    to_inf = _all(hi == _inf, lo > 0.0, lo < _inf)  # (B(a, inf) = 0, as SciPy: -inf)
    # (a negative non-integer beside inf: |B| = |Gamma(lo)| inf^(-lo) = inf, as SciPy)
    to_neg = _all(hi == _inf, lo < 0.0, lo > -_inf)
    # (Stirling's branches only where some element may take them: readable eagerly, always
    # under jit; their selection below would discard them, so values and derivatives are
    # the same, without ~80 primitives a call)
    out = _stirling_betaln(big, lo, hi, plain) if _may_hold(big) else plain
    if near is not None:
        out = _where(near[0], 0.0 if near[1] is None else near[1], out)
    out = _where(to_inf, -_inf, out)
    return _where(_any(_beta_overflows(a0, b0), to_neg), _inf, out)


# Gauss-Legendre nodes and weights on [0, 1] for the integrals of _beta_near_zero: their
# integrands are analytic on an ellipse around [0, 1] of parameter above 17 (the poles at
# least 4 lengths of the interval beyond it), the rules' errors about 17^(-2 n), near eps
def _gauss_legendre_01(n):
    t, w = _np.polynomial.legendre.leggauss(n)
    return (0.5 * (t + 1.0)).tolist(), (0.5 * w).tolist()


_GL_NODES, _GL_WEIGHTS = _gauss_legendre_01(8)
_GL_NODES2, _GL_WEIGHTS2 = _gauss_legendre_01(6)
_NEAR_ZERO = 0.1  # (beside 0 the plain forms' second derivatives lose about eps / |a|)
# (beside a negative integer digamma loses eps / distance: SciPy's d/da betaln(-1 + 1e-12,
# 2.5) is 2.7e-5 off; the reflected forms within this distance of a pole)
_NEAR_POLE = 0.1
# sin(t) / t = sum_k (-1)^k t^(2k) / (2k + 1)!, for |t| <= pi / 10 to below eps by 9 terms
_SIN_OVER = tuple((-1.0) ** k / math.factorial(2 * k + 1) for k in range(9))


def _sin_over(t):
    """``sin(t) / t`` by its series (``|t| <= pi / 10``; exact in its derivatives at 0)."""
    t2 = fnp.multiply(t, t)
    out = _SIN_OVER[-1]
    for c in reversed(_SIN_OVER[:-1]):
        out = fnp.add(fnp.multiply(out, t2), c)
    return out


def _sin_cos_pi(y, err=None):
    """``(sin(pi y'), cos(pi y'))``, ``y' = y + err`` (``err`` small, no derivative), ``y``
    reduced exactly by its nearest integer: of ``y'``'s relative precision beside the zeros."""
    n = fnp.round(fnp.stop_gradient(y))
    t = fnp.subtract(y, n)
    sin_t, cos_t = _sin_cos_pi_near(t, fnp.zeros_like(t) if err is None else err)
    p = _parity(n)
    return fnp.multiply(sin_t, p), fnp.multiply(cos_t, p)


def _with_slopes(value, slopes):
    """``value``'s value with the derivatives of ``slopes`` (the same function in another
    form)."""
    return fnp.add(fnp.stop_gradient(value), fnp.subtract(slopes, fnp.stop_gradient(slopes)))


def _two_sum_error(a, b, s):
    """``a + b - s`` exactly for ``s = fl(a + b)`` (Knuth's two-sum; no derivative)."""
    br = fnp.subtract(s, a)
    return fnp.add(fnp.subtract(a, fnp.subtract(s, br)), fnp.subtract(b, br))


def _beta_near_zero(a, b, log=True, value=True):
    """``(mask, log|B(a, b)|, B(a, b))`` (None for a part not asked for) where an argument is
    within 1/10 of 0, or one of ``a``, ``b``, ``a + b`` below 1/2 is within 1/10 of a pole,
    None where no element is. The plain exp(log) form's slopes cancelled beside the poles,
    and digamma there loses eps / distance. Eager only (the gate reads the values): staged
    (jit) code keeps the plain forms, since these forms staged cost 10-40x on ordinary points
    and run at evaluation they cost jit(vmap(grad(betaln))) 1.35x.

    For the smaller ``e`` (``|e| <= 1/10``, the other ``x`` beyond 1/10): for ``x >= 1/2``
    ``B = exp(e L) / e = 1/e + L exprel(e L)``, ``L = (lgamma(1 + e) - lgamma(x + e) +
    lgamma(x)) / e = int_0^1 psi(1 + e u) - psi(x + e u) du``; below, with ``Gamma(x)`` and
    ``1 / Gamma(x + e)`` reflected, ``B = exp(e K) / e sin(pi (x + e)) / sin(pi x)``,
    ``K = int_0^1 psi(1 + e u) - psi(1 - x - e u) du``, whose slopes are those of
    ``1/e + K exprel(e K) + c(e) exp(e K) + cot(pi x) (sin(pi e) / e) exp(e K)``
    (``c(e) = (cos(pi e) - 1) / e``: partial fractions, no two terms of a pole cancel);
    for both within 1/10: ``B = (1/a + 1/b) exp(a b N) = 1/a + 1/b + (a + b) N exprel(a b N)``
    with ``N = -int int psi'(1 + a u + b v) du dv``. The integrals by Gauss-Legendre rules.
    Elsewhere beside a pole: the gamma functions of arguments below 1/2 reflected, ``B =
    exp(E) F``, ``E`` the log-gamma values of arguments of at least 1/2, ``F`` the sines'
    quotient (``pi (cot(pi a) + cot(pi b))`` in its slopes where all three are reflected,
    ``cos(pi b) + sin(pi b) cot(pi a)`` where ``a`` and ``a + b`` are). Sines of arguments
    reduced exactly, ``a + b`` with its rounding error (``betaln(-3.3, -0.7)``: ``a + b``
    rounds onto the pole -4)."""
    # (the gate read from the concrete arrays behind the tracers, without a bound
    # operation: the common path's cost. Each array on its own: under vmap the batch axes
    # of a and b may sit at different positions)
    ca, cb = _concrete_behind(a), _concrete_behind(b)
    if ca is None or cb is None:
        return None
    if not _some_below(ca) and not _some_below(cb):
        return None
    ac0, bc0 = fnp.stop_gradient(a), fnp.stop_gradient(b)
    # an argument within 1/10 of -n (1 <= n <= 10; the other beyond 1/10 of 0) moved to
    # within 1/10 of 0 by the recurrence B(a, b) = B(a + n, b) prod_(k=1..n) (a + b + n - k) /
    # (a + n - k): the product's slopes are exact, and the pole's partial fraction goes with
    # the shifted argument (the reflected product's slopes cancelled: d2/db2 beta(-1 + 1e-12,
    # 2.5) was 3e-4 off, residue linear in b)
    na, nb = _pole_shift(ac0), _pole_shift(bc0)
    far_a, far_b = fnp.abs(ac0) > _NEAR_ZERO, fnp.abs(bc0) > _NEAR_ZERO
    nearer_a = fnp.less_equal(fnp.abs(fnp.subtract(ac0, na)), fnp.abs(fnp.subtract(bc0, nb)))
    shift_a = _all(na != 0.0, far_b, _any(nearer_a, nb == 0.0))
    shift_b = _all(nb != 0.0, far_a, fnp.logical_not(shift_a))
    shift = _any(shift_a, shift_b)
    any_shift = _may_hold(shift)
    if any_shift:
        a = fnp.subtract(a, _where(shift_a, na, 0.0))  # (exact: within 1/10 of na)
        b = fnp.subtract(b, _where(shift_b, nb, 0.0))
        ac, bc = fnp.stop_gradient(a), fnp.stop_gradient(b)
    else:
        ac, bc = ac0, bc0
    sc = fnp.add(ac, bc)
    es = _two_sum_error(ac, bc, sc)
    regular = _all(fnp.isfinite(ac), fnp.isfinite(bc),
                   fnp.logical_not(_any(_is_pole(ac), _is_pole(bc),
                                        _all(_is_pole(sc), es == 0.0))))
    small_a = fnp.abs(ac) <= _NEAR_ZERO
    small_b = fnp.abs(bc) <= _NEAR_ZERO
    two = _all(regular, small_a, small_b)
    first = fnp.less_equal(fnp.abs(ac), fnp.abs(bc))
    xc = _where(first, bc, ac)
    one = _all(regular, _any(small_a, small_b), fnp.logical_not(two))
    up, down = _all(one, xc >= 0.5), _all(one, xc < 0.5)

    def near(v):
        return _all(v < 0.5, fnp.abs(fnp.subtract(v, fnp.round(v))) < _NEAR_POLE)
    poles = _all(regular, fnp.logical_not(_any(small_a, small_b)),
                 _any(near(ac), near(bc), near(fnp.add(sc, es))))
    any_up, any_down, any_two, any_poles = _maybe_true_each(up, down, two, poles)
    if not (any_up or any_down or any_two or any_poles):
        return None
    mask = _any(one, two, poles)
    parts = []  # (where, log, value)
    if any_up or any_down:
        e = _where(one, _where(first, a, b), 0.05)
        x = _where(one, _where(first, b, a), 2.0)
        # psi(1 + e u) - psi(x + e u) above 1/2, psi(1 + e u) - psi(1 - x - e u) below
        lam = None
        for u, w in zip(_GL_NODES, _GL_WEIGHTS):
            eu = fnp.multiply(u, e)
            far = _where(down, fnp.subtract(fnp.subtract(1.0, x), eu), fnp.add(x, eu))
            term = fnp.multiply(w, fnp.subtract(_sp.digamma(fnp.add(1.0, eu)),
                                                _sp.digamma(far)))
            lam = term if lam is None else fnp.add(lam, term)
        el = fnp.multiply(e, lam)
        log_e = fnp.log(fnp.abs(e))
        if any_up:
            parts.append((up, fnp.subtract(el, log_e),
                          fnp.add(fnp.divide(1.0, e), fnp.multiply(lam, exprel(el))) if value
                          else None))
        if any_down:
            xd = _where(down, x, -0.5)
            sin_x, cos_x = _sin_cos_pi(xd)
            sin_s, _ = _sin_cos_pi(fnp.add(xd, e), _where(down, es, 0.0))
            log_sines = fnp.subtract(fnp.log(fnp.abs(sin_s)), fnp.log(fnp.abs(sin_x)))
            exp_el = fnp.exp(el)
            prod = fnp.multiply(fnp.divide(exp_el, e), fnp.divide(sin_s, sin_x))
            pe = fnp.multiply(math.pi, e)
            c = fnp.multiply(fnp.multiply(-0.5 * math.pi, pe),
                             fnp.square(_sin_over(fnp.multiply(0.5, pe))))
            g = fnp.add(c, fnp.multiply(fnp.divide(cos_x, sin_x),
                                        fnp.multiply(math.pi, _sin_over(pe))))
            fractions = fnp.add(
                fnp.add(fnp.divide(1.0, e), fnp.multiply(lam, exprel(el))),
                fnp.multiply(g, exp_el))
            b_down = _with_slopes(prod, fractions)
            # (e subnormal: 1/e overflows, and the slope carriers' inf - inf made the value
            # nan: betaln(-3.4455, 5e-324) nan, true 744.44, beta there nan, true inf (SciPy
            # inf for both); there the plain forms, whose slopes overflow as the true ones)
            tiny = fnp.abs(fnp.stop_gradient(e)) < 1e-300
            b_down = _where(tiny, prod, b_down)
            log_down = None
            if log:
                # e L + log|D|, D = sin(pi s) / (e sin(pi x)) with the slopes of its partial
                # fractions 1/e + g (g = c(e) + cot(pi x) sin(pi e) / e): the logarithms'
                # difference, -log|e| + log|sin(pi s)| - log|sin(pi x)|, had slopes of two
                # poles that cancelled (pi (cot(pi s) - cot(pi x)), 1/e^2 - pi^2 / sin(pi s)^2)
                d = _with_slopes(fnp.divide(fnp.divide(sin_s, sin_x), e),
                                 fnp.add(fnp.divide(1.0, e), g))
                log_down = fnp.add(el, _where(tiny, fnp.subtract(log_sines, log_e),
                                              _with_slopes(fnp.subtract(log_sines, log_e),
                                                           fnp.log(fnp.abs(d)))))
            parts.append((down, log_down, b_down))
    if any_two:
        a2, b2 = _where(two, a, 0.05), _where(two, b, 0.05)
        nu = None
        for u, wu in zip(_GL_NODES2, _GL_WEIGHTS2):
            for v, wv in zip(_GL_NODES2, _GL_WEIGHTS2):
                arg = fnp.add(1.0, fnp.add(fnp.multiply(u, a2), fnp.multiply(v, b2)))
                term = fnp.multiply(-wu * wv, _sp.polygamma(arg, n=1))
                nu = term if nu is None else fnp.add(nu, term)
        s, ab = fnp.add(a2, b2), fnp.multiply(a2, b2)
        abn = fnp.multiply(ab, nu)
        # (log|1/a + 1/b| as log|1 + e/x| - log|e|, e the smaller: log|a + b| - log|b| lost
        # eps |b / a| of its slope beside a tiny a; log|(a + b) / x| where e/x is near -1,
        # a + b exact there and 1 + e/x not)
        e2, x2 = _where(first, a2, b2), _where(first, b2, a2)
        r = fnp.divide(e2, x2)
        low = fnp.stop_gradient(r) < -0.5
        log_ratio = _where(low, fnp.log(fnp.abs(fnp.divide(s, x2))),
                           fnp.log1p(_where(low, 0.0, r)))
        log_two = fnp.add(abn, fnp.subtract(log_ratio, fnp.log(fnp.abs(e2))))
        # (the pole part's value as s / (a b), exact where a + b is, a = -b included; its
        # slopes those of 1/a + 1/b, which keep their precision where |b| << |a|)
        out_two = None
        if value:
            poles2 = fnp.add(fnp.divide(1.0, a2), fnp.divide(1.0, b2))
            poles2 = _with_slopes(fnp.divide(fnp.stop_gradient(s), fnp.stop_gradient(ab)),
                                  poles2)
            out_two = fnp.add(poles2, fnp.multiply(fnp.multiply(s, nu), exprel(abn)))
        parts.append((two, log_two, out_two))
    if any_poles:
        parts.append((poles,) + _beta_reflected(a, b, es, poles, log, value))
    log_out = out = None
    for where, log_part, value_part in reversed(parts):
        if log:
            log_out = log_part if log_out is None else _where(where, log_part, log_out)
        if value:
            out = value_part if out is None else _where(where, value_part, out)
    if any_shift:
        # the recurrence's factors prod_k (a + b - k) / (a - k), a the shifted argument,
        # a + b - k with the rounding error of a + b (beside a pole of Gamma(a + b): a zero)
        y = _where(shift, _where(shift_a, a, b), 0.05)
        s, e_s = _where(shift, fnp.add(a, b), 0.5), _where(shift, es, 0.0)
        n = fnp.negative(_where(shift_a, na, _where(shift_b, nb, 0.0)))
        num = den = None
        for k in range(1, _largest_shift(n) + 1):
            inside = n >= float(k)
            nk = _where(inside, fnp.add(fnp.subtract(s, float(k)), e_s), 1.0)
            dk = _where(inside, fnp.subtract(y, float(k)), 1.0)
            num = nk if num is None else fnp.multiply(num, nk)
            den = dk if den is None else fnp.multiply(den, dk)
        if num is not None:
            if log:
                log_out = _where(shift, fnp.add(log_out, fnp.subtract(
                    fnp.log(fnp.abs(num)), fnp.log(fnp.abs(den)))), log_out)
            if value:
                out = _where(shift, fnp.multiply(out, fnp.divide(num, den)), out)
    return mask, log_out, out


_POLE_SHIFT = 10  # (beside -1 .. -10: the recurrence of _beta_near_zero)


def _largest_shift(n):
    """The largest element of ``n`` (read from the concrete array behind it; all
    ``_POLE_SHIFT`` where there is none)."""
    v = _concrete_behind(n)
    if v is None:
        return _POLE_SHIFT
    bk = _backend_of(v)
    return int(_np.max(bk.to_numpy(v), initial=0.0))


def _pole_shift(v):
    """The negative integer ``-n`` within 1/10 of ``v`` (``1 <= n <= 10``), else 0."""
    n = fnp.round(v)
    return _where(_all(n <= -1.0, n >= -float(_POLE_SHIFT),
                       fnp.abs(fnp.subtract(v, n)) <= _NEAR_ZERO), n, 0.0)


def _some_below(v):
    """Whether some element of the concrete array ``v`` is 1/10 or less (or nan): every
    point of :func:`_beta_near_zero` has such an argument (a pole within 1/10 is 0 or below;
    a + b within 1/10 of one needs an argument of 1/20 or less)."""
    return _holds_somewhere(v, lambda xp, v: xp.logical_not(v > _NEAR_ZERO))


def _holds_somewhere(v, test):
    """Whether ``test(xp, v)`` (a mask, by the namespace ``xp`` of the concrete array or
    Python number ``v``) holds for some element: one host read, no bound operation."""
    if isinstance(v, (bool, int, float, _np.ndarray, _np.generic)):
        return bool(test(_np, _np.asarray(v)).any())
    bk = _backend_of(v)
    return bool(bk.to_numpy(bk.xp.any(test(bk.xp, v))))


def _beta_reflected(a, b, es, at, log, value):
    """``(log|B|, B)`` where ``at``: ``exp(E) F`` of :func:`_beta_near_zero`, ``es`` the rounding
    error of ``a + b``."""
    a, b = _where(at, a, 2.5), _where(at, b, 2.5)
    es = _where(at, es, 0.0)
    s = fnp.add(a, b)
    ac, bc, sc = fnp.stop_gradient(a), fnp.stop_gradient(b), fnp.stop_gradient(s)
    ra, rb, rs = ac < 0.5, bc < 0.5, sc < 0.5
    # E: +-lgamma of a or 1 - a, b or 1 - b, a + b or 1 - a - b; lgamma(hi) - lgamma(a + b)
    # as -log poch(hi, lo) where both are 10 or more (one argument reflected: lo)
    lg_a = _sp.lgamma(_where(ra, fnp.subtract(1.0, a), a))
    lg_b = _sp.lgamma(_where(rb, fnp.subtract(1.0, b), b))
    lg_s = _sp.lgamma(_where(rs, fnp.subtract(fnp.subtract(1.0, s), es), s))
    e = fnp.add(fnp.add(_where(ra, fnp.negative(lg_a), lg_a), _where(rb, fnp.negative(lg_b),
                                                                        lg_b)),
                _where(rs, lg_s, fnp.negative(lg_s)))
    big = _all(fnp.logical_xor(ra, rb), sc >= 10.0)
    if _may_hold(big):
        lo, hi = _where(ra, a, b), _where(ra, b, a)
        hi_b, lo_b = _where(big, hi, 10.0), _where(big, lo, 1.0)
        lg_lo = _sp.lgamma(fnp.subtract(1.0, _where(big, lo, -0.5)))
        e = _where(big, fnp.negative(fnp.add(_log_poch_positive(hi_b, lo_b), lg_lo)), e)
    sin_a, cos_a = _sin_cos_pi(a)
    sin_b, cos_b = _sin_cos_pi(b)
    sin_s, _ = _sin_cos_pi(s, es)
    one = fnp.ones_like(s)
    den_a, den_b = _where(ra, sin_a, one), _where(rb, sin_b, one)
    num_s = _where(rs, sin_s, one)
    count = fnp.subtract(fnp.add(fnp.astype(ra, _dtype(s)), fnp.astype(rb, _dtype(s))),
                         fnp.astype(rs, _dtype(s)))
    factor = fnp.multiply(fnp.divide(num_s, fnp.multiply(den_a, den_b)),
                          fnp.pow(math.pi, count))
    # the slopes of the quotient's partial fractions where a + b is reflected with another
    # (the product's slopes cancelled beside the poles: terms of size 1/d^2 for a result of
    # size 1/d or less)
    cot_at = _all(rs, _any(ra, rb))
    if _may_hold(cot_at):
        cot_a, cot_b = fnp.divide(cos_a, den_a), fnp.divide(cos_b, den_b)
        slopes = _where(_all(ra, rb), fnp.multiply(math.pi, fnp.add(cot_a, cot_b)),
                        _where(ra, fnp.add(cos_b, fnp.multiply(sin_b, cot_a)),
                               fnp.add(cos_a, fnp.multiply(sin_a, cot_b))))
        factor = _where(cot_at, _with_slopes(factor, slopes), factor)
    log_out = out = None
    if log:
        log_sines = fnp.subtract(
            fnp.add(fnp.multiply(count, math.log(math.pi)),
                    fnp.log(fnp.abs(num_s))), fnp.add(fnp.log(fnp.abs(den_a)),
                                                      fnp.log(fnp.abs(den_b))))
        # (the logarithms' difference where the reflected argument beside a + b is nearer
        # its pole than the other is to an integer: the quotient's mixed slope cancelled
        # there, as in _beta_near_zero's log|sin(pi s) / sin(pi x)|)
        dist_a = fnp.abs(fnp.subtract(ac, fnp.round(ac)))
        dist_b = fnp.abs(fnp.subtract(bc, fnp.round(bc)))
        plain_logs = _all(rs, fnp.logical_xor(ra, rb),
                          _where(ra, dist_a < dist_b, dist_b < dist_a))
        log_out = fnp.add(e, _where(plain_logs, log_sines,
                                    _with_slopes(log_sines, fnp.log(fnp.abs(factor)))))
    if value:
        h = fnp.exp(fnp.multiply(0.5, e))
        out = fnp.multiply(fnp.multiply(h, factor), h)
    return log_out, out


def _may_hold(mask):
    """False only where ``mask``'s values are known (plain arrays, eager transforms, vmap)
    and all false; staged code (jit) may hold anything. Read from the array behind its
    tracers (any over all of it: under vmap the batch axis' place does not matter), where
    functrans.numpy's any() gave a batched value under vmap that could not be read (True:
    every branch computed). No primitive is bound."""
    v = _concrete_behind(mask)
    if v is None:
        return True
    if type(v) is bool:
        return v
    if isinstance(v, (_np.ndarray, _np.generic)):
        return bool(v.any())  # (the method: ~3x faster than np.any's dispatch)
    bk = _backend_of(v)
    return bool(bk.to_numpy(bk.xp.any(v)))


def _stirling_betaln(big, lo, hi, plain):
    """``_betaln`` where ``big`` (by Stirling's series), ``plain`` elsewhere."""
    lo, hi = _where(big, lo, 1.0), _where(big, hi, _STIRLING_FROM)  # (the branch's own domain)
    s = fnp.add(lo, hi)
    w = fnp.subtract(_stirling_correction(hi), _stirling_correction(s))
    log1p_ratio = fnp.multiply(hi, fnp.log1p(fnp.divide(lo, hi)))
    one = fnp.add(fnp.subtract(fnp.add(_sp.lgamma(lo), fnp.multiply(0.5, fnp.log1p(
        fnp.divide(lo, hi)))), fnp.add(log1p_ratio, fnp.multiply(lo, fnp.log(s)))),
        fnp.add(lo, w))
    lo_big = _where(lo >= _STIRLING_FROM, lo, 1.0)  # (positive: finite derivatives where unused)
    both = fnp.add(
        fnp.subtract(fnp.multiply(lo - 0.5, fnp.log(fnp.divide(lo_big, s))),
                     fnp.add(log1p_ratio, fnp.multiply(0.5, fnp.log(hi)))),
        fnp.add(fnp.add(w, _stirling_correction(lo_big)), _HALF_LOG_2PI))
    return _where(big, _where(lo >= _STIRLING_FROM, both, one), plain)


def _beta_overflows(a, b):
    """Where B(a, b) is ``+inf`` by SciPy's conventions beyond the poles the formulas give:
    an argument ``-inf`` beside a non-nan one (no limit: SciPy's overflow), and ``inf``
    beside a non-positive integer (``Gamma`` at a pole: ``beta(-3, inf) = inf``). (Beside a
    negative non-integer ``inf`` gives ``sign(Gamma) * inf``: :func:`betaln`'s ``inf`` with
    :func:`beta`'s sign.)"""
    neg = _all(_any(a == -_inf, b == -_inf), a == a, b == b)
    pole_a = _all(b == _inf, a <= 0.0, a > -_inf, a == fnp.floor(a))
    pole_b = _all(a == _inf, b <= 0.0, b > -_inf, b == fnp.floor(b))
    return _any(neg, pole_a, pole_b)


def beta(a, b, /):
    """The beta function ``Gamma(a) Gamma(b) / Gamma(a + b)`` for real arguments, as
    ``sign * exp(betaln(a, b))`` (negative non-integers get their sign from the gamma
    functions). See :func:`betaln` for the accuracy and the poles; ``sign(Gamma(a)) * inf``
    for a negative non-integer ``a`` beside ``b = inf``, ``+inf`` where :func:`betaln` is
    ``inf`` otherwise, as SciPy."""
    a, b = _real_pair(a, b, "beta")
    if _dtype(a) in _HALF:
        return _in32_half(beta, (a, b))
    s = fnp.add(a, b)
    sign = fnp.multiply(fnp.multiply(_gamma_sign(a), _gamma_sign(b)), _gamma_sign(s))
    near = _beta_near_zero(a, b, log=False)
    out = fnp.multiply(fnp.exp(_betaln(a, b, near)), sign)
    if near is not None:
        out = _where(near[0], near[2], out)
    return _where(_beta_overflows(a, b), _inf, out)


# -- reductions: logsumexp, softmax --------------------------------------------------------------


def _finite_max(a, axis):
    """The maximum over ``axis`` (kept), with non-finite maxima replaced by 0 and no
    derivative: the shift of the stable formulas."""
    m = fnp.max(a, axis=axis, keepdims=True)
    return fnp.stop_gradient(_where(fnp.isfinite(m), m, 0.0))


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
    """``log(sum(b * exp(a), axis))`` computed without overflow (the maximum is subtracted
    first).

    ``b`` (weights, broadcast with ``a``) may be negative: with ``return_sign`` the result is
    ``(log|s|, sign(s))`` for the sum ``s``, otherwise a negative sum gives nan (with a zero
    derivative in ``a`` and ``b``, as JAX's). Entries with ``b == 0`` are ignored (also
    where ``a`` is infinite); an empty or all ``-inf`` sum gives ``-inf`` (sign 0). The
    derivative in ``a`` is the softmax ``b exp(a) / s``, and is taken as 0 where the whole
    sum is 0 (all ``-inf``); the maximum carries no derivative. Weighted terms that cancel to
    exactly 0 give ``-inf`` with an infinite derivative (``±inf``; nan for the entries adding
    nothing), as JAX.
    Derivatives in ``b`` are ``exp(a) / s``, also where ``b == 0`` (with ``a`` finite); where
    every weight of a slice is 0 (``s = 0``, value ``-inf``) that is ``+inf`` (0 where ``a`` is
    ``-inf``): the one-sided limit from inside the domain, ``b -> 0+`` (JAX: nan; nan with
    ``return_sign``, whose ``log|s|`` has the limits ``-inf`` and ``+inf`` from the two sides).

    A slice with ``+inf`` entries (without ``b`` or ``where``) is ``+inf`` with the one-sided
    limit as derivative, ``1/k`` for each of its ``k`` entries at ``+inf`` and 0 for the
    others (as ``logaddexp``'s), forward and reverse alike, on concrete values; staged
    (``jit``) it is JAX's: nan for the ``+inf`` entries in reverse mode, nan throughout
    forward (selecting it there cost ``jit(grad)`` of a cross-entropy 22 %).

    ``where`` (JAX's keyword; SciPy has none): a boolean mask broadcast with ``a``; only the
    marked entries are summed (the others, whatever they hold, get no derivative); nothing
    marked gives ``-inf``.

    Complex ``a`` or ``b`` (SciPy's, JAX's): ``log(sum(b * exp(a)))`` on the principal
    branch, the imaginary part in ``[-pi, pi]`` as the floats hold it (SciPy 1.17 turns a sum
    landing on ``-pi`` into ``pi``, JAX 0.10.2 one on ``pi`` into ``-pi``: mpmath keeps both),
    shifted by the entry of largest real part, its imaginary part included (accurate for
    large imaginary parts: SciPy's was 1e-6 off at 1e10); with ``return_sign`` the pair
    ``(log|s|, s / |s|)``. A slice with ``+inf`` real parts gives ``inf`` with their common
    imaginary part (nan where they differ; with ``return_sign`` its phase), its derivative
    nan (SciPy and JAX: ``inf + pi/4 j``, ``exp(inf + 0j) + exp(inf + 0j)`` seen as ``inf +
    inf j``); an empty or all ``-inf`` slice, or one whose weighted terms cancel to exactly 0,
    ``-inf + 0j`` (sign 0; the latter's derivative nan)."""
    a = _array_like(a)
    if _is_complex(a) or (b is not None and _is_complex(b)):
        return _logsumexp_complex(a, b, axis, keepdims, return_sign, where)
    a = _real(a, "logsumexp")
    if where is not None:
        mask = fnp.asarray(where)
        if _dtype(mask).kind != "b":
            raise TypeError(f"logsumexp: where must be a boolean mask; got "
                            f"{_dtype(mask).name}")
        ones = fnp.ones_like(fnp.stop_gradient(a))
        if b is not None and type(b) not in _SCALARS:
            b = _real(b, "logsumexp")
        b = fnp.where(mask, ones if b is None else fnp.multiply(ones, b), 0.0)
    zero = None  # where an array b is 0: those entries leave the sum (and its maximum)
    if b is not None:
        if type(b) not in _SCALARS:
            b = _real(b, "logsumexp")
            a, b = fnp.broadcast_arrays(a, b)
            zero = b == 0
        elif b == 0:
            a = fnp.full_like(a, -_inf)
    axes = _normalize_axes(axis, a.ndim)
    top = None  # (the slices with a +inf entry, where their derivative is taken apart)
    if _size(a) == 0 and any(a.shape[i] == 0 for i in axes):
        m = fnp.zeros_like(fnp.sum(a, axis=axes, keepdims=True))
    elif b is None and isinstance(a, _Tracer) and _has_posinf(a):
        # A slice with a +inf entry has the value +inf and, as derivative, the one-sided
        # limit: the softmax as those entries grow, 1/k for each of its k entries at +inf
        # (1 for a lone one, as logaddexp's), 0 for the others; second derivative 0. That
        # is the maximum's derivative (ties share): its value there, its input elsewhere
        # zeros (the formula would pass exp(inf) times zero tangents or cotangents: nan in
        # every direction forward, nan for the inf entry in reverse mode, as JAX). Eager
        # only (concrete values): staged, the selects cost jit(grad) of a cross-entropy
        # over 64 x 10 logits 22 %, and jit keeps JAX's nan there.
        top_value = fnp.max(a, axis=axes, keepdims=True)
        mx = fnp.stop_gradient(top_value)
        m = _where(fnp.isinf(mx), 0.0, mx)
        top = mx == _inf
        a = _where(fnp.broadcast_to(top, a.shape), 0.0, a)
    else:
        m = _lse_shift(a if zero is None else fnp.where(zero, -_inf, a), axes)
    t = fnp.subtract(a, m)
    if zero is not None:
        # A zero weight contributes 0 * exp(t) = 0 to the sum, but its derivative in b is
        # exp(t) / s: keep finite t (capped below overflow, so that 0 * exp(t) is no nan)
        # and drop infinite or nan entries as SciPy does.
        cap = 0.5 * math.log(fnp.finfo(_dtype(a)).max)
        t = fnp.where(zero, fnp.where(fnp.isfinite(t), fnp.minimum(t, cap), -_inf), t)
    e = fnp.exp(t)
    if b is not None:
        e = fnp.multiply(e, b)  # (b may be a tracer where a is not: fnp, not the operator)
    s = fnp.sum(e, axis=axes, keepdims=True)
    # Nothing in the sum (all -inf, or no weight): -inf with derivative 0. Terms that cancel
    # to exactly 0 are a sum log really meets at 0: -inf with log's infinite derivative,
    # taken by _silent_log (log(0) warned; SciPy and JAX are silent). Without a derivative
    # (s concrete) both are -inf, from one mask. (Without b every term is >= 0: s == 0 is
    # dead.)
    dead = s == 0.0
    log = fnp.log
    if b is not None and isinstance(s, _Tracer):
        zero_sum = dead
        dead = dead & ~fnp.any(e != 0.0, axis=axes, keepdims=True)
        if _may_hold(zero_sum & ~dead):   # (its custom rule doubled grad's time at n = 100)
            log = _silent_log
    if return_sign:
        sign = fnp.sign(s)
        s = _where(s == 0.0, s, fnp.abs(s))  # |s|, whose derivative at 0 would stop log's
        out = _where(dead, -_inf, log(_where(dead, 1.0, s)))
    else:
        # a negative sum: nan with no derivative, as JAX (not log's 1 / s, a finite
        # derivative of a nan value)
        neg = s < 0.0
        out = _where(dead, -_inf, _where(neg, math.nan, log(_where(dead | neg, 1.0, s))))
    if zero is not None and isinstance(b, _Tracer) and _may_hold(dead):
        out = fnp.add(out, _dead_weights_slope(dead, t, b, axes, return_sign))
    if top is not None:
        out = _where(top, top_value, out)
    out = fnp.add(out, m)
    if not keepdims:
        out = fnp.reshape(out, tuple(d for i, d in enumerate(out.shape) if i not in axes))
        if return_sign:
            sign = fnp.reshape(sign, out.shape)
    return (out, sign) if return_sign else out


def _lse_operand(x):
    """``x`` (complex, or real: integers promoted) as an array."""
    if type(x) is complex:
        return _to_array(x, _dt.complex128)
    return x if type(x) not in _SCALARS and _dtype(x).kind == "c" else _real(x, "logsumexp")


def _logsumexp_complex(a, b, axis, keepdims, return_sign, where):
    """logsumexp with complex ``a`` or ``b`` (see there)."""
    a = _lse_operand(a)
    if b is not None:
        b = _array_like(b)
        b = b if type(b) in _SCALARS else _lse_operand(b)
    if where is not None:
        mask = fnp.asarray(where)
        if _dtype(mask).kind != "b":
            raise TypeError(f"logsumexp: where must be a boolean mask; got "
                            f"{_dtype(mask).name}")
        ones = fnp.ones_like(fnp.stop_gradient(fnp.real(a) if _is_complex(a) else a))
        b = fnp.where(mask, ones if b is None else fnp.multiply(ones, b), 0.0)
    bits = max(_dtype(a).bits if _dtype(a).kind == "f" else _dtype(a).bits // 2,
               0 if b is None or type(b) in _SCALARS else
               (_dtype(b).bits if _dtype(b).kind == "f" else _dtype(b).bits // 2))
    cdt = _dt.complex64 if bits == 32 else _dt.complex128
    a = fnp.astype(a, cdt)
    zero = None   # where an array b is 0: those entries leave the sum (and its maximum)
    if b is not None:
        if type(b) not in _SCALARS:
            a, b = fnp.broadcast_arrays(a, b)
            zero = b == 0
        elif b == 0:
            a = fnp.full_like(a, complex(-_inf, 0.0))
    axes = _normalize_axes(axis, a.ndim)
    from ..lax_ops import _principal_angle
    from ..numpy._elementwise import _from_parts
    if _size(a) == 0 and any(a.shape[i] == 0 for i in axes):
        out = fnp.full_like(fnp.sum(fnp.real(a), axis=axes, keepdims=True), -_inf)
        sign = fnp.astype(fnp.zeros_like(out), cdt)
        out = out if return_sign else fnp.astype(out, cdt)
    else:
        ar, ai = fnp.real(a), fnp.imag(a)
        if zero is not None:
            ar = fnp.where(zero, -_inf, ar)
        # the shift: the largest real part and an imaginary part of an entry that has it
        mx = fnp.stop_gradient(fnp.max(ar, axis=axes, keepdims=True))
        c = fnp.max(fnp.where(ar == mx, fnp.stop_gradient(ai), -_inf), axis=axes,
                    keepdims=True)
        c = fnp.where(fnp.isfinite(c), c, 0.0)
        m = fnp.where(fnp.isfinite(mx), mx, 0.0)
        t = fnp.subtract(a, _from_parts(m, c, cdt))   # (exact in each part)
        tr, ti = fnp.real(fnp.stop_gradient(t)), fnp.imag(fnp.stop_gradient(t))
        top = mx == _inf   # (slices with +inf real parts: their value apart, below)
        drop = fnp.logical_or(tr == -_inf, fnp.broadcast_to(top, t.shape))
        if zero is not None:
            # a zero weight adds 0, but its derivative in b is exp(t) / s: finite t kept
            # (capped below overflow), the others dropped, as SciPy
            cap = 0.5 * math.log(fnp.finfo(_dtype(ar)).max)
            fin = fnp.logical_and(fnp.isfinite(tr), fnp.isfinite(ti))
            over = fnp.maximum(fnp.where(fin, tr, 0.0) - cap, 0.0)
            t = fnp.where(fnp.logical_and(zero, fin),
                          t - _from_parts(over, fnp.zeros_like(over), cdt), t)
            drop = fnp.logical_or(drop, fnp.logical_and(zero, fnp.logical_not(fin)))
        # exp(t) quietly: 0 where dropped; nan + nan j where a part is nan or the imaginary
        # part infinite (exp(nan + 1j) and exp(1 + inf j) warn)
        bad = fnp.logical_or(fnp.logical_or(fnp.isnan(tr), fnp.isnan(mx)),
                             fnp.logical_not(fnp.isfinite(ti)))   # (a nan slice: nan)
        t = fnp.where(drop, complex(-_inf, 0.0),
                      fnp.where(bad, complex(math.nan, math.nan), t))
        e = fnp.exp(t)
        if b is not None:
            e = fnp.multiply(e, b)
        s = fnp.sum(e, axis=axes, keepdims=True)
        # A zero sum: -inf + 0j (sign 0), as SciPy and JAX: from no terms (dead: derivative
        # 0, or in b the limit below), or from terms that cancel (log's derivative there,
        # unbounded and of no one direction: nan); log(0) warned and gave the shift's phase.
        dead = s == 0.0
        cancel = None
        if b is not None and isinstance(s, _Tracer):
            cancel = dead
            dead = dead & ~fnp.any(e != 0.0, axis=axes, keepdims=True)
        # (a nan sum apart: complex division by nan warns in log's derivative)
        lost = fnp.logical_or(fnp.isnan(fnp.real(s)), fnp.isnan(fnp.imag(s)))
        zero_sum = dead if cancel is None else cancel
        lg = fnp.log(_where(fnp.logical_or(zero_sum, lost), 1.0, s))
        pc = _principal_angle(c)
        im = fnp.imag(lg) + pc
        im = fnp.where(im > math.pi, im - 2.0 * math.pi,
                       fnp.where(im < -math.pi, im + 2.0 * math.pi, im))
        re = fnp.real(lg) + m
        # +inf real parts: inf with their common imaginary part (nan where they differ: no
        # limit); derivative nan (as JAX's, in the directions that move their slice)
        lo_top = fnp.min(fnp.where(ar == _inf, fnp.stop_gradient(ai), _inf), axis=axes,
                         keepdims=True)
        top_im = fnp.where(lo_top == c, pc, math.nan)
        re = fnp.where(top, _inf, fnp.where(zero_sum, -_inf, fnp.where(lost, math.nan, re)))
        im = fnp.where(top, top_im, fnp.where(zero_sum, 0.0, fnp.where(lost, math.nan, im)))
        nan_slope = fnp.logical_or(top, lost)
        if cancel is not None:
            nan_slope = fnp.logical_or(nan_slope, cancel & ~dead)
        if isinstance(a, _Tracer) and _may_hold(nan_slope):
            re = re + _nan_slope(fnp.real(a) + fnp.imag(a), nan_slope, 0.0)
        if zero is not None and isinstance(b, _Tracer) and _may_hold(dead):
            # no weight in a slice: log|s| -> -inf with exp(a) / s unbounded, its limit
            # depending on the direction b comes from (complex): nan (the real case's +inf)
            bb = fnp.real(b) + fnp.imag(b) if _is_complex(b) else b
            re = re + _nan_slope(bb, dead, 0.0)
        out = re if return_sign else _from_parts(re, im, cdt)
        if return_sign:
            # (a slice with +inf real parts holds no terms, as a dead one, but has a phase)
            sign = _where(fnp.logical_and(zero_sum, fnp.logical_not(top)), 0.0,
                          _from_parts(fnp.cos(im), fnp.sin(im), cdt))
    if not keepdims:
        shape = tuple(d for i, d in enumerate(out.shape) if i not in axes)
        out = fnp.reshape(out, shape)
        if return_sign:
            sign = fnp.reshape(sign, shape)
    return (out, sign) if return_sign else out


def _lse_shift(a, axes):
    """The maximum over ``axes`` (kept), 0 where it is infinite, with no derivative: the shift
    of logsumexp. A nan maximum stays (SciPy's nan, without a warning: 0 in its place met
    ``exp(1e300)`` beside the nan, an overflow)."""
    m = fnp.max(a, axis=axes, keepdims=True)
    return fnp.stop_gradient(_where(fnp.isinf(m), 0.0, m))


def _has_posinf(a):
    """Whether the traced ``a`` has a concrete value (not staged) holding ``+inf``."""
    v = _concrete_behind(a)
    return v is not None and _holds_somewhere(v, lambda xp, v: v == _inf)


def _dead_weights_slope(dead, t, b, axes, return_sign):
    """0, whose derivative in the weights ``b`` of a slice that has none (all 0) is the
    one-sided limit from inside the domain: ``d/db_i log(sum b exp(a)) = exp(a_i) / s`` with
    ``s -> 0+``, ``+inf`` for a rising ``b_i`` (where ``exp(a_i) > 0``; 0 where ``a_i = -inf``,
    which adds nothing whatever its weight); with ``return_sign`` (``log|s|``, whose limits
    from the two sides are -inf and +inf) nan. JAX 0.10.2 gives nan for both, and this was 0
    (the flat ``-inf`` branch). A strong zero (mul_sz): b's value is 0 there, and a zero
    tangent, or another slice, gets 0."""
    grows = fnp.logical_and(dead, fnp.exp(fnp.stop_gradient(t)) > 0.0)
    c = _where(grows, math.nan if return_sign else _inf, 0.0)
    return fnp.sum(_mul_sz(fnp.astype(c, _dtype(b)), b), axis=axes, keepdims=True)


def _maybe_true_each(*masks):
    """``_may_hold`` of each mask, the concrete ones read from the host at once."""
    arrays = [_concrete_behind(mask) for mask in masks]
    if any(a is None for a in arrays):
        return tuple(a is None or _may_hold(a) for a in arrays)
    bk = _backend_of(arrays[0])
    flags = bk.to_numpy(bk.xp.stack([bk.xp.any(a) for a in arrays]))
    return tuple(bool(f) for f in flags)


def softmax(x, axis=None):
    """``exp(x) / sum(exp(x), axis)`` over ``axis`` (all axes by default), computed with the
    maximum subtracted. As in SciPy, an all ``-inf`` slice or one with ``+inf`` gives nan.
    Such a slice (or one with a nan) has derivative nan in the directions that move one of
    its entries, and 0 in the others (see functrans.primitives.softmax)."""
    x = _real(x, "softmax")
    axes = _normalize_axes(axis, x.ndim)
    if _size(x) == 0:
        return x
    m = fnp.stop_gradient(fnp.max(x, axis=axes, keepdims=True))
    return _softmax_of_shifted(x, m, axes)


def _softmax_of_shifted(x, m, axes, kept=None):
    """``exp(x - m) / sum(exp(x - m))`` over ``axes`` for the shift ``m`` (the maximum, kept
    dims, no derivative); ``kept`` (a boolean of m's shape, where given) marks the slices that
    hold something: the others give 0 (nn.softmax's where)."""
    # (the formula's derivative is right where every maximum is finite: a concrete value
    # says so, under jit the rule below is always used)
    traced = isinstance(x, _Tracer)
    plain = not traced or not _maybe_nonfinite(m)
    m_raw = m
    # A slice with no finite maximum (+inf, all -inf: nan, as a nan one) is shifted by nan:
    # nan throughout without a warning (x - inf met inf - inf, exp(x) an inf / inf or 0 / 0).
    # A slice with nothing kept has the maximum -inf: shifted by 0, exp(-inf) = 0 over 1.
    # (Skipped where the maxima are known finite: a NumPy array (functrans's AtArray
    # included) read in place costs less than the two operations, +20 % on 100 entries.)
    if (traced and not plain) or (not traced and (not isinstance(m, _np.ndarray) or not (
            math.isfinite(m.item()) if m.size == 1 else _np.isfinite(m).all()))):
        m = _where(fnp.isfinite(m), m, math.nan if kept is None else
                   fnp.astype(_where(kept, math.nan, 0.0), _dtype(m)))  # (m's dtype kept)
    if plain:
        e = fnp.exp(x - m)
        s = fnp.sum(e, axis=axes, keepdims=True)
        return e / (s if kept is None else _where(kept, s, 1.0))
    global _softmax_fn
    if _softmax_fn is None:
        from ..custom import custom_jvp
        _softmax_fn = custom_jvp(_softmax_value)
        _softmax_fn.defjvp(_softmax_jvp)
    # An addend of the denominator, per slice: 1 for the empty slices, nan for those without
    # a derivative (a +inf, nan or all -inf maximum among kept entries; their value is nan
    # anyway), which the rule reads from it; 0 elsewhere.
    if kept is None:
        pad = m - m   # (nan where m is +-inf or nan: one operation)
    else:
        pad = fnp.astype(_where(~fnp.isfinite(m_raw) & kept, math.nan,
                                fnp.astype(~kept, _dtype(m))), _dtype(m))
    return _softmax_fn(x, m, pad)


def _slice_axes(x, m):
    """The axes ``m`` (kept dims) was reduced over, from the shapes (also per example under
    vmap)."""
    return tuple(i for i in range(x.ndim) if m.shape[i] == 1 and x.shape[i] != 1)


def _softmax_value(x, m, pad):
    e = fnp.exp(x - m)
    return e / (fnp.sum(e, axis=_slice_axes(x, m), keepdims=True) + pad)


def _softmax_jvp(primals, tangents):
    # y (t - sum(y t)) as one primitive, with the slices that have no derivative (pad nan)
    # apart: nan where the direction (or, transposed, the cotangent) moves one of their
    # entries, exactly 0 where it moves none (see functrans.primitives.softmax).
    x, m, pad = primals
    y = _softmax_fn(x, m, pad)
    return y, _softmax_tangent(tangents[0], y, pad, kind="softmax",
                               axes=_slice_axes(x, m))


_softmax_fn = None


def _softmax_tangent(t, a, b, *, kind, axes):
    from ..primitives.softmax import softmax_tangent
    return softmax_tangent(t, a, b, kind=kind, axes=axes)


def _staged(v):
    """Whether ``v`` has no concrete value (jit, make_graph: a staging beneath the
    transforms)."""
    while isinstance(v, _Tracer):
        v = v.primal if isinstance(v, _PairTracer) else getattr(v, "val", None)
        if v is None:
            return True
    return False


def _differentiated(v):
    """Whether ``v`` carries a derivative at some level (forward mode's tracer with a
    tangent, or a jet's); constants, batching and staging (jit) do not count."""
    while isinstance(v, _Tracer):
        if isinstance(v, _PairTracer):
            if v.tangent is not None:
                return True
            v = v.primal
        else:
            v = getattr(v, "val", None)
    return False


def log_softmax(x, axis=None):
    """``log(softmax(x, axis))`` computed as ``x - logsumexp(x, axis)`` with the (finite)
    maximum subtracted first: accurate where the softmax underflows. An all ``-inf`` slice
    gives nan, as in SciPy; a slice with ``+inf`` gives SciPy's ``[nan, -inf, ...]``, and
    its derivative is nan as JAX's (only in the directions that move an entry of that
    slice: 0 in the others)."""
    x = _real(x, "log_softmax")
    axes = _normalize_axes(axis, x.ndim)
    if _size(x) == 0:
        return x
    if not _staged(x):
        # A concrete value: the formula where every maximum is finite (its sums lie in
        # [1, n]), read once here; else the slices apart, without the formula's warnings
        # (inf - inf, log(0), exp of a large entry beside +inf).
        m = fnp.stop_gradient(fnp.max(x, axis=axes, keepdims=True))
        if not _maybe_nonfinite(m):
            t = x - m
            return t - fnp.log(fnp.sum(fnp.exp(t), axis=axes, keepdims=True))
        t = x - _where(fnp.isfinite(m), m, 0.0)
        return _log_softmax_quiet(t, axes) if not isinstance(t, _Tracer) else \
            _log_softmax_by_rule(t, axes)
    return _log_softmax_of_shifted(x - _finite_max(x, axes), axes)


def _log_softmax_quiet(t, axes):
    """``t - log(sum(exp(t)))`` of a concrete ``t`` (shifted by the finite maxima, 0 for the
    others), without a floating-point warning: the slices whose maximum is not finite give
    SciPy's values, nan (-inf for the entries below a +inf)."""
    hi = fnp.max(t, axis=axes, keepdims=True)
    bad = ~fnp.isfinite(hi)
    ts = _where(bad, 0.0, t)
    out = ts - fnp.log(fnp.sum(fnp.exp(ts), axis=axes, keepdims=True))
    # (the fill in t's dtype: a where of two Python numbers is float64, which float32 / 16
    # input took through the custom rule's dtype check, a CustomRuleError under grad)
    fill = fnp.astype(_where((hi == _inf) & (t != _inf), -_inf, math.nan), _dtype(t))
    return _where(bad, fill, out)


def _maybe_nonfinite(v):
    """Whether the traced ``v`` may hold inf or nan: its concrete value's, where the
    transforms have one (JVP and batch tracers), else True (staged)."""
    v = _concrete_behind(v)
    if v is None:
        return True
    if isinstance(v, (_np.ndarray, _np.generic)):  # (the method: half the namespace's time)
        return not _np.isfinite(v).all()
    b = _backend_of(v)
    return not bool(b.to_numpy(b.xp.all(b.xp.isfinite(v))))


def _nan_slope(t, bad, value):
    """``value`` where ``bad`` (a mask of ``t``'s shape with the slices' axes kept as 1), 0
    elsewhere, whose derivative is nan in the slices ``bad`` marks for a tangent that moves
    one of their entries, and exactly 0 for one that moves none (a strong zero: no other
    slice, no excluded entry gets nan). The second derivative likewise."""
    global _nan_slope_fn
    if _nan_slope_fn is None:
        from ..custom import custom_jvp
        _nan_slope_fn = custom_jvp(lambda t, nans: fnp.zeros_like(nans))
        _nan_slope_fn.defjvp(_nan_slope_jvp)
    # (both terms in t's dtype: where of two Python numbers is the default float64)
    dtype = _dtype(t)
    nans = fnp.astype(_where(bad, math.nan, 0.0), dtype)
    return fnp.add(fnp.astype(_where(bad, value, 0.0), dtype), _nan_slope_fn(t, nans))


def _nan_slope_jvp(primals, tangents):
    t, nans = primals
    out = _nan_slope_fn(t, nans)
    # nans + out: the same value, whose own derivative is the next order's nan slope
    slope = fnp.broadcast_to(fnp.add(nans, out), t.shape)
    axes = tuple(i for i in range(t.ndim) if nans.shape[i] == 1 and t.shape[i] != 1)
    return out, fnp.sum(_mul_sz(slope, tangents[0]), axis=axes, keepdims=True)


_nan_slope_fn = None


def _log_softmax_of_shifted(t, axes):
    """``t - log(sum(exp(t)))`` over ``axes`` (an int or a tuple) of the shifted ``t`` of
    log_softmax. A slice whose sum is not finite and positive (a +inf or nan entry, or all
    -inf) keeps that value, with derivative nan in the directions that move one of its
    entries and 0 in the others (functrans.primitives.softmax; the formula met exp(inf)
    times a 0 tangent, 0 * inf in reverse mode, or 0 / 0: nan in the Jacobian's entries
    between other slices, and in those of nn.log_softmax's excluded entries)."""
    if not _staged(t):
        # (a concrete value, also beneath the transforms: the formula where every slice is
        # finite, as its derivative is right there)
        lse = fnp.log(fnp.sum(fnp.exp(t), axis=axes, keepdims=True))
        if not isinstance(t, _Tracer) or not _maybe_nonfinite(fnp.stop_gradient(lse)):
            return t - lse
    return _log_softmax_by_rule(t, axes)


def _log_softmax_by_rule(t, axes):
    """_log_softmax_of_shifted by its custom rule (nan derivatives in the bad slices)."""
    global _log_softmax_fn
    if _log_softmax_fn is None:
        from ..custom import custom_jvp
        _log_softmax_fn = custom_jvp(_log_softmax_value)
        _log_softmax_fn.defjvp(_log_softmax_jvp)
    # (a zero per slice: the slices' shape, from which the rule finds their axes)
    ax = _normalize_axes(axes, t.ndim)
    shape = tuple(1 if i in ax else d for i, d in enumerate(t.shape))
    return _log_softmax_fn(t, fnp.zeros(shape, dtype=_dtype(t)))


def _log_softmax_value(t, zero):
    if not _staged(t) and _size(t):   # (an empty one: no maximum to read, no warning)
        return _log_softmax_quiet(t, _slice_axes(t, zero))
    return t - fnp.log(fnp.sum(fnp.exp(t), axis=_slice_axes(t, zero), keepdims=True))


def _log_softmax_jvp(primals, tangents):
    # t - sum(p t) with p = e / s, as one primitive that divides per slice (see
    # functrans.primitives.softmax; a slice whose sum is not in (0, inf) has no derivative)
    t, zero = primals
    axes = _slice_axes(t, zero)
    if _differentiated(t):
        # (second order: the value by the rule again, p = exp(out) through selects so that
        # the bad slices' zero tangents meet no nan; there p is a 0 whose derivative is nan
        # in the directions that move the slice, which the primitive's derivative reads;
        # the sum divides the bad slices only, which it finds by it)
        out = _log_softmax_fn(t, zero)
        s = fnp.sum(fnp.exp(fnp.stop_gradient(t)), axis=axes, keepdims=True)
        bad = ~((s > 0.0) & (s < _inf))
        p = _where(bad, _nan_slope(t, bad, 0.0), fnp.exp(_where(bad, 0.0, out)))
        return out, _softmax_tangent(tangents[0], p, _where(bad, s, 1.0), kind="log",
                                     axes=axes)
    if not _staged(t) and _size(t):
        # (concrete: the bad slices, which the primitive reads from s not in (0, inf), fed
        # finite values, and the value without warnings)
        hi = fnp.max(t, axis=axes, keepdims=True)
        bad = ~fnp.isfinite(hi)
        e = fnp.exp(_where(bad, 0.0, t))
        s = _where(bad, math.nan, fnp.sum(e, axis=axes, keepdims=True))
        return (_log_softmax_quiet(t, axes),
                _softmax_tangent(tangents[0], e, s, kind="log", axes=axes))
    e = fnp.exp(t)
    s = fnp.sum(e, axis=axes, keepdims=True)
    return t - fnp.log(s), _softmax_tangent(tangents[0], e, s, kind="log", axes=axes)


_log_softmax_fn = None


# -- logistic functions ------------------------------------------------------------------------


def expit(x, /):
    """The logistic sigmoid ``1 / (1 + exp(-x))``, without overflow for large ``|x|``
    (``exp(x) / (1 + exp(x))`` for negative ``x``)."""
    global _expit_fn
    x = _real(x, "expit")
    if _dtype(x) in _HALF:
        return _in32_half(expit, (x,))
    if not isinstance(x, _Tracer):  # (no transform: the formula, without the custom_jvp call)
        return _expit_value(x)
    if _expit_fn is None:
        from ..custom import custom_jvp
        _expit_fn = custom_jvp(_expit_value)
        # The derivative as one factor, expit(x) expit(-x): differentiated through the
        # formula, x's two appearances in exp(x) / (1 + exp(x)) gave two terms, whose sum is
        # inf - inf = nan times an infinite cotangent (nn.glu's derivative at a = inf, b < 0).
        _expit_fn.defjvp(_expit_jvp)
    return _expit_fn(x)


def _expit_jvp(primals, tangents):
    x = primals[0]
    y = _expit_fn(x)
    if _differentiated(x):
        # (second order: the slope's own rule; through the product its derivative was
        # s (expit(-x) - expit(x)), which cancels near 0: 3e-9 relative at 1e-8, 0 in float32)
        return y, fnp.multiply(tangents[0], _expit_slope(x))
    return y, fnp.multiply(tangents[0], fnp.multiply(y, _expit_fn(fnp.negative(x))))


_expit_fn = None
_expit_slope_fn = None


def _expit_slope(x):
    """expit's slope ``s = expit(x) expit(-x)``, whose derivative is ``-s tanh(x / 2)``
    (``expit(x) - expit(-x) = tanh(x / 2)``, without the cancellation near 0)."""
    global _expit_slope_fn
    if _expit_slope_fn is None:
        from ..custom import custom_jvp
        _expit_slope_fn = custom_jvp(
            lambda x: fnp.multiply(_expit_value(x), _expit_value(fnp.negative(x))))
        _expit_slope_fn.defjvp(_expit_slope_jvp)
    return _expit_slope_fn(x)


def _expit_slope_jvp(primals, tangents):
    x = primals[0]
    s = _expit_slope_fn(x)
    return s, fnp.multiply(tangents[0], fnp.negative(fnp.multiply(s, fnp.tanh(x * 0.5))))


def _expit_value(x):
    pos = x >= 0.0
    # Each branch sees only the inputs it is used for (a finite value elsewhere), so that
    # neither its value nor its derivative overflows where it is not selected.
    xp = _where(pos, x, 0.0)
    xn = _where(pos, 0.0, x)
    en = fnp.exp(xn)
    return _where(pos, 1.0 / (1.0 + fnp.exp(-xp)), en / (1.0 + en))


def logit(x, /):
    """The logit ``log(x / (1 - x))``, the inverse of :func:`expit`, for ``x`` in [0, 1]
    (``-inf`` at 0, ``inf`` at 1, nan outside). Near 1/2 it is computed as
    ``log1p(2d) - log1p(-2d)``, ``d = x - 1/2``, to keep its relative accuracy."""
    x = _real(x, "logit")
    if _dtype(x) in _HALF:
        return _in32_half(logit, (x,))
    mid = (x >= 0.3) & (x <= 0.65)
    d = 2.0 * (_where(mid, x, 0.5) - 0.5)
    xo = _where(mid, 0.25, x)
    # (log(x) - log1p(-x) away from 1/2: its derivative 1/x + 1/(1 - x) is inf, not nan, at
    # 0 and 1)
    return _where(mid, fnp.log1p(d) - fnp.log1p(-d), fnp.log(xo) - fnp.log1p(-xo))


def log_expit(x, /):
    """``log(expit(x))`` without underflow: ``-log1p(exp(-x))`` for ``x >= 0`` and
    ``x - log1p(exp(x))`` below."""
    x = _real(x, "log_expit")
    if _dtype(x) in _HALF:
        return _in32_half(log_expit, (x,))
    pos = x >= 0.0
    xp = _where(pos, x, 0.0)
    xn = _where(pos, 0.0, x)
    return _where(pos, -fnp.log1p(fnp.exp(-xp)), xn - fnp.log1p(fnp.exp(xn)))


# -- x log y -----------------------------------------------------------------------------------


def _x_log(x, y, name, log, lo):
    x, y = _real_pair(x, y, name)
    if _dtype(x) in _HALF:
        return _in32_half(lambda x, y: _x_log(x, y, name, log, lo), (x, y))
    if type(x) in _NUMPY_TYPES and type(y) in _NUMPY_TYPES:
        return _x_log_numpy(_plain_numpy(x), _plain_numpy(y), _NUMPY_LOG[name])
    with _np.errstate(all="ignore"):   # (SciPy's are silent: log(0), log(-1) on NumPy)
        return _x_log_traced(x, y, log, lo)


_NUMPY_LOG = {"xlogy": _np.log, "xlog1py": _np.log1p}


def _in_memory_order(x):
    """``x`` (NumPy), copied unless contiguous: NumPy's SIMD loops of log and log1p take
    contiguous and positive strides, a reversed view goes to the C library's (up to an ulp
    apart: the traced forms' operands are fresh arrays, so the plain forms' are too)."""
    f = x.flags
    return x if f.c_contiguous or f.f_contiguous else _np.ascontiguousarray(x)


def _x_log_numpy(x, y, log):
    """_x_log_traced's value on plain NumPy operands (broadcast, one floating dtype): its
    operations on each element, the same values (a nan's sign and payload aside), in a few
    in-place passes (the traced form took three logarithms and several selects)."""
    if not x.ndim:   # (a NumPy scalar, as the traced form's ``+ 0.0`` gives)
        return _x_log_numpy(x.reshape(1), y.reshape(1), log)[0]
    with _np.errstate(all="ignore"):
        out = log(_in_memory_order(y))
        out *= x
        zero = x == 0.0
        if zero.any():
            out[zero & (y == y)] = 0.0
        out += 0.0   # (-0.0 -> 0.0, as SciPy)
    return out


def _x_log_traced(x, y, log, lo):
    # x log(y) with a strong zero at x == 0 (mul_sz): the value 0 there whatever log(y) is
    # (-inf at y = lo, nan below, inf at y = inf), and the product's derivatives: log(y) in x
    # (-inf at y = lo, as JAX and the limit from either side; nan below lo; inf at inf), 0 in
    # y (the function is 0 all along x = 0), 1 / (y - lo) mixed (inf at y = lo, as JAX).
    # Where x == 0 and y == lo the logarithm's slope is inf: there it is a constant times a
    # strong zero as well, so that a zero cotangent stays 0 (not 0 / 0) and a unit tangent
    # gives inf. (fnp's functions, not operators, between x and y: one of them may be a plain
    # array of a library whose operators refuse tracers, array-api-strict's)
    # (session 54: where y's concrete value, beneath the transforms, has no lo and no nan,
    # x log(y) alone: the same values and derivatives in half the time)
    ends, nans = _y_at_lo_or_nan(y, lo)
    if ends:
        at = fnp.logical_and(x == 0.0, y == lo)
        ys = fnp.stop_gradient(y)
        # (session 54) where y == lo and x != 0, log(y - lo) by _silent_log, whose slope
        # 1 / (y - lo) is +-inf there without NumPy's warning, to every order: log's own rule
        # divided by 0 in the backward pass, outside this function's errstate
        # (grad(xlogy, 1)(1, 0) warned; its value inf, SciPy silent)
        edge = fnp.logical_and(x != 0.0, y == lo)
        special = fnp.logical_or(at, edge)
        slope = _where(at, _inf, fnp.zeros_like(ys))  # (y's dtype: float32 stays float32)
        # (log(lo) = -inf written as such, and _silent_log's value: no warning under jit
        # either, where the graph runs outside this function's errstate)
        log_lo = _where(at, fnp.subtract(_mul_sz(slope, fnp.subtract(y, ys)), _inf),
                        _silent_log(_where(edge, fnp.subtract(y, lo), 1.0)))
        out = _where(special, _mul_sz(log_lo, x),
                     _x_times_log(x, _where(special, lo + 1.0, y), log))
    else:
        out = _x_times_log(x, y, log)
    if not nans:
        return out + 0.0
    # (nan for a nan y, as SciPy, x == 0 included, and nan derivatives of every order there:
    # x log(nan), whose y is replaced by a finite point elsewhere so that the branch not taken
    # passes no nan; + 0.0: 0 * log(y) may be -0.0, SciPy's 0.0)
    nan_y = y != y
    at_nan = fnp.multiply(x, log(_where(nan_y, y, lo + 1.0)))
    return _where(nan_y, at_nan, out) + 0.0


def _x_times_log(x, y, log):
    """``x log(y)`` with a strong zero at ``x == 0`` (``mul_sz``); for ``log`` = ``fnp.log`` by
    the primitive ``x_log_y``, whose slope in ``y`` is ``(x / y) t`` (the product rule's
    ``x (t / y)`` overflowed at a subnormal ``y``). (``log1p``: ``1 + y`` is never subnormal,
    its tangent ``t / (1 + y)`` at most ``1e16 t``.)"""
    if log is not fnp.log:
        return _mul_sz(log(y), x)
    return _sp.x_log_y_p.bind(x, y)


def _y_at_lo_or_nan(y, lo):
    """(whether y may equal lo, whether it may hold a nan): from its concrete value where
    the transforms have one, else (True, True) (staged, or not an array)."""
    v = _concrete_behind(y)
    if isinstance(v, _np.ndarray):
        return bool((v == lo).any()), bool(_np.isnan(v).any())
    if v is None or type(v) is float or isinstance(v, _np.generic):
        return (True, True) if v is None else (v == lo, v != v)
    b = _backend_of(v)
    return (bool(b.to_numpy(b.xp.any(v == lo))), bool(b.to_numpy(b.xp.any(b.xp.isnan(v)))))


def _silent_log(d):
    """``log(d)`` for ``d >= 0``, ``-inf`` at 0, whose derivatives ``1 / d``, ``-1 / d**2``...
    are ``+-inf`` at ``d = 0``, without a floating-point warning (the backward pass and jit's
    graph run outside the functions' errstate), each a strong zero in its tangent (a zero
    tangent adds 0, not ``inf * 0``)."""
    global _silent_log_fn, _silent_reciprocal_fn
    if _silent_log_fn is None:
        from ..custom import custom_jvp
        _silent_log_fn = custom_jvp(lambda d: _where(d == 0.0, -_inf, fnp.log(
            _where(d == 0.0, 1.0, d))))
        _silent_log_fn.defjvp(lambda p, t: (_silent_log_fn(p[0]), _mul_sz(
            _silent_reciprocal_fn(p[0]), t[0])))
        _silent_reciprocal_fn = custom_jvp(_silent_reciprocal_value)
        _silent_reciprocal_fn.defjvp(_silent_reciprocal_jvp)
    return _silent_log_fn(d)


def _silent_reciprocal_value(d):
    zero = d == 0.0
    return _where(zero, fnp.copysign(_inf, d), fnp.divide(1.0, _where(zero, 1.0, d)))


def _silent_reciprocal_jvp(primals, tangents):
    r = _silent_reciprocal_fn(primals[0])
    return r, _mul_sz(fnp.negative(fnp.multiply(r, r)), tangents[0])


_silent_log_fn = _silent_reciprocal_fn = None


def _x_log_weak(x, y, name, log, lo):
    # The former xlogy / xlog1py, kept for scipy.stats: its support-end machinery (sessions
    # 33-34, e.g. stats._end_log_terms) adds the end's -inf and its derivatives itself and
    # relies on x log(y) being 0 with derivative 0 in x where x == 0 and y <= lo or y = inf.
    # Where x == 0 and log(y) is finite, x * log(y) is that 0 already with the true derivatives
    # (log(y) in x, x / y = 0 in y); elsewhere at x == 0, y is replaced by a point where log is
    # finite (1 for log, 0 for log1p) so that the product is 0 with derivative 0.
    # (session 57: the product by _x_times_log, whose slope in y is (x / y) t: x (t / y)
    # overflowed at a subnormal y, jvp of stats.gamma.logpdf(x, 1 + 2**-52) at 5e-324 inf,
    # grad 4.49e307)
    x, y = _real_pair(x, y, name)
    fine = (y > lo) & (y < _inf)
    ys = _where(fnp.logical_and(x == 0.0, ~fine & (y == y)), lo + 1.0, y)
    return _x_times_log(x, ys, log) + 0.0  # + 0.0: 0 * log(y) may be -0.0; SciPy gives 0.0


def _xlogy_weak(x, y):
    return _x_log_weak(x, y, "xlogy", fnp.log, 0.0)


def _xlog1py_weak(x, y):
    return _x_log_weak(x, y, "xlog1py", fnp.log1p, -1.0)


def xlogy(x, y, /):
    """``x * log(y)``, and 0 where ``x == 0`` (unless ``y`` is nan), as SciPy.

    Derivatives: ``log(y)`` in ``x`` and ``x / y`` in ``y``, those of the product also at
    ``x == 0``: ``log(y)`` in ``x`` (``-inf`` at ``y = 0``, the limit from either side of
    ``x = 0``, as JAX; nan for ``y < 0``, ``inf`` at ``y = inf``), 0 in ``y`` (the function is
    0 all along ``x = 0``; JAX's nan at ``y = 0``), and the mixed one ``1 / y`` (``inf`` at
    ``y = 0``)."""
    return _x_log(x, y, "xlogy", fnp.log, 0.0)


def xlog1py(x, y, /):
    """``x * log1p(y)``, and 0 where ``x == 0`` (unless ``y`` is nan), as SciPy.

    Derivatives: ``log1p(y)`` in ``x`` and ``x / (1 + y)`` in ``y``; at ``x == 0`` those of the
    product as :func:`xlogy`'s: ``log1p(y)`` in ``x`` (``-inf`` at ``y = -1``, nan below), 0 in
    ``y``, ``1 / (1 + y)`` mixed."""
    return _x_log(x, y, "xlog1py", fnp.log1p, -1.0)


def entr(x, /):
    """The entropy term ``-x * log(x)`` for ``x > 0``; 0 at 0 and ``-inf`` for ``x < 0``.

    Derivative ``-(log(x) + 1)`` for ``x > 0``; at ``x == 0`` its one-sided limit ``+inf``
    (the second ``-inf``), as JAX's; 0 below (a constant ``-inf``; JAX: nan)."""
    x = _real(x, "entr", small_to_float32=True)
    if _dtype(x) in _HALF:
        return _in32_half(entr, (x,))
    if type(x) in _NUMPY_TYPES:
        return _entr_numpy(_plain_numpy(x))
    with _np.errstate(all="ignore"):
        return _entr_traced(x)


def _entr_numpy(x):
    """_entr_traced's value on a plain NumPy array: its operations on each element, the
    same values, in place."""
    if not x.ndim:
        return _entr_numpy(x.reshape(1)).reshape(())
    with _np.errstate(all="ignore"):
        out = _np.log(_in_memory_order(x))
        _np.multiply(x, out, out=out)
        _np.negative(out, out=out)
        rest = x > 0.0
        _np.logical_not(rest, out=rest)   # (0, below, nan)
        if rest.any():
            at = rest.nonzero()
            xr = x[at]
            out[at] = _np.where(xr == 0.0, _np.sqrt(xr), _np.where(xr != xr, xr, -_inf))
    return out


def _entr_traced(x):
    pos = x > 0.0
    zero = x == 0.0
    xs = _where(pos, x, 1.0)
    # at 0: sqrt of the zeros, value 0 with sqrt's infinite derivatives there, of the signs
    # of entr's one-sided ones (-log(0) - 1 = +inf, -1/0 = -inf, 1/0**2 = +inf); elsewhere the
    # sqrt of 1 (of 0 there, its backward pass would divide the zero cotangent by 0: a warning)
    at_zero = _where(zero, fnp.sqrt(_where(zero, x, 1.0)), 0.0)
    out = _where(pos, _sp.entr_positive_p.bind(xs), _where(zero, at_zero, -_inf))
    return _where(x != x, x, out)


# -- the normal distribution -------------------------------------------------------------------


def ndtr(x, /):
    """The standard normal CDF ``Phi(x) = erfc(-x / sqrt(2)) / 2`` (relative accuracy in
    the lower tail: below -4.95 as ``erfcx(-x / sqrt(2)) * exp(-x**2 / 2) / 2`` with ``x**2``
    exact, within a few ulp, where erfc of the rounded ``-x / sqrt(2)`` is ``x**2 / 2`` ulp
    off; on (-4.95, -0.99) within 3.5 ulp, on NumPy with erfcx from one polynomial, elsewhere
    erfc plus its first-order term for the rounding of ``-x / sqrt(2)``; float32 input is
    computed in float64 and rounded once).
    Derivative: the normal density ``exp(-x**2 / 2) / sqrt(2 pi)``."""
    x = _real(x, "ndtr")
    if _dtype(x) in _LOW:
        # In float32 the rounding of x / sqrt(2) alone costs ~x^2 ulp in the lower tail
        # (100 ulp at x = -12): computed in float64 and rounded once, as SciPy does (16-bit
        # floats too).
        return _in64(ndtr, x)
    return _sp.ndtr(x)


def erfcinv(y, /):
    """The inverse of :func:`erfc`: the ``x`` with ``erfc(x) = y``, for ``y`` in [0, 2]
    (``inf`` at 0, ``-inf`` at 2, nan outside), as ``-ndtri(y / 2) / sqrt(2)`` (accurate
    near 0 and 2; float32 computed in float64). Where ``y / 2`` is subnormal (``y`` below
    4.45e-308, where halving rounds: 0 at 5e-324, whose ndtri is -inf) by Newton's method
    on ``log erfc(x) = log(erfcx(x)) - x**2 = log(y)``. Derivative:
    ``-sqrt(pi)/2 * exp(erfcinv(y)**2)``."""
    y = _real(y, "erfcinv", small_to_float32=True)
    d = _dtype(y)
    if d is _dt.float32 or d in _HALF:  # (in float64 no y / 2 is subnormal)
        return fnp.astype(_erfcinv_halved(fnp.astype(y, _dt.float64)), d)
    return _erfcinv(y)


_TWICE_TINY = 2.0 * 2.2250738585072014e-308
_LOG_SQRTPI_27 = math.log(27.0 * math.sqrt(math.pi))


def _erfcinv_halved(y):
    # (y itself below 0, nan there with nan slopes: y * 0.5 is -0.0 at -5e-324, whose ndtri
    # is -inf)
    return -ndtri(fnp.minimum(y * 0.5, y)) * _SQRT1_2


def _erfcinv(y):
    tiny = _all(y < _TWICE_TINY, y > 0.0)
    if _known_none(tiny):
        return _erfcinv_halved(y)
    global _erfcinv_tiny_fn
    if _erfcinv_tiny_fn is None:
        from ..custom import custom_jvp
        # (the derivative as erfcinv's, -sqrt(pi)/2 exp(x^2), of the result: through the
        # Newton steps it was inf * 0 = nan where it overflows, and a second derivative
        # would be off by their truncation)
        _erfcinv_tiny_fn = custom_jvp(_erfcinv_tiny)
        _erfcinv_tiny_fn.defjvp(_erfcinv_tiny_jvp)
    # (each branch sees only its own elements, a finite slope elsewhere: in reverse mode
    # the other branch's infinite slope at a tiny y met a zero cotangent, nan)
    return _where(tiny, _erfcinv_tiny_fn(_where(tiny, y, 1e-300)),
                  _erfcinv_halved(_where(tiny, 0.5, y)))


_erfcinv_tiny_fn = None


def _erfcinv_tiny(y):
    """erfcinv(y) for 0 < y < 4.5e-308, where it lies in [26.5, 27.22]: erfc(x) ~ exp(-x^2) /
    (x sqrt(pi)) at x = 27 gives a start within 1e-3, and each Newton step on
    ``log(erfcx(x)) - x^2 = log(y)`` squares the error times about 1/(2x): two reach an ulp."""
    log_y = fnp.log(y)
    x = fnp.sqrt(-log_y - _LOG_SQRTPI_27)
    for _ in range(2):
        e = _sp.erfcx(x)
        x = x + (fnp.log(e) - x * x - log_y) * e * (0.5 * math.sqrt(math.pi))
    return x


def _erfcinv_tiny_jvp(primals, tangents):
    x = _erfcinv_tiny_fn(primals[0])
    return x, fnp.multiply(tangents[0], fnp.exp(x * x) * (-0.5 * math.sqrt(math.pi)))


def ndtri(y, /):
    """The inverse of :func:`ndtr`: the ``x`` with ``ndtr(x) = y``, for ``y`` in [0, 1]
    (``-inf`` at 0, ``inf`` at 1, nan outside), accurate in both tails.
    Derivative: ``sqrt(2 pi) * exp(ndtri(y)**2 / 2)``; where some ``|ndtri(y)| >= 3`` as
    ``sqrt(pi / 2) * erfcx(|x| / sqrt(2)) / min(y, 1 - y)`` (``x = ndtri(y)``; within a few
    ulp: the exponential of the rounded ``x`` was ``|x|`` times its error off, 2600 ulp at
    ``y = 1e-236``)."""
    return _sp.ndtri(_real(y, "ndtri", small_to_float32=True))


def log_ndtr(x, /):
    """``log(ndtr(x))``, accurate in both tails: for ``x >= 0`` as
    ``log1p(-ndtr(-x))`` (so ``log_ndtr(10)`` is ``-7.6e-24``, not 0); for ``x < -1`` as
    ``log(erfcx(-x / sqrt(2)) / 2) - x**2 / 2`` (two negative terms: within 2 ulp, and
    ``log_ndtr(-40)`` is about -804.6 rather than ``-inf``), ``log(ndtr(x))`` between (near 0
    erfcx's form is up to 5 ulp off). float32 input is computed in float64 and rounded once,
    as SciPy does.
    Derivative: ``phi(x) / ndtr(x)``; for ``x < -1`` as ``sqrt(2/pi) / erfcx(-x / sqrt(2))``
    (the primitive ``log_ndtr_lower``), within a few ulp and so its own derivatives: through
    ``log(ndtr(x))`` it was the density over an ``ndtr`` whose rounded ``x / sqrt(2)`` costs
    ``x**2 / 2`` ulp (256 ulp at -19.25; the second derivative ``-s (x + s)``, ``s`` the
    slope, cancelled to 2e-11 relative); below ``x = -1e8`` as ``-x`` (at ``-inf``: ``inf``,
    its own derivative -1, without a warning)."""
    x = _real(x, "log_ndtr")
    if _dtype(x) in _LOW:  # (see ndtr: float64, rounded once; 16-bit floats too)
        return _in64(log_ndtr, x)
    if type(x) is _np.ndarray and x.dtype == _np.float64 and x.ndim:
        return _log_ndtr_on_numpy(x)
    hi = x >= 0.0
    lo = x < -1.0
    x_hi = _where(hi, x, 0.0)
    x_mid = _where(hi | lo, -0.5, x)   # nan stays nan here
    x_lo = _where(lo, x, -2.0)
    # (ndtr's, the same values: its slope, the density, is accurate in the tails)
    up = fnp.log1p(-ndtr(-x_hi))
    mid = fnp.log(ndtr(x_mid))
    low = _sp.log_ndtr_lower(x_lo)
    return _where(hi, up, _where(lo, low, mid))


def _log_ndtr_on_numpy(x):
    """:func:`log_ndtr` of a NumPy float64 array (no derivative): the same forms and bits,
    each on its own elements and in place (session 54: with stand-ins on every element its
    ~10 temporaries of x's size passed glibc's 64 MiB trim threshold (backends.allocator)
    at 1e6 points, ~7000 page faults a call)."""
    xf = x.ravel()   # (never written)
    out = _np.empty(xf.shape)
    hi = xf >= 0.0
    lo = xf < -1.0
    for own, form in ((hi, "hi"), (lo, "lo"), (~(hi | lo), "mid")):   # (nan: mid's)
        idx = _np.flatnonzero(own)
        if not idx.size:
            continue
        v = xf.take(idx)
        if form == "lo":
            v = _np.asarray(_sp.log_ndtr_lower(v))
        elif form == "hi":
            v = _np.asarray(_sp.ndtr(_np.negative(v, out=v)))
            v = _np.log1p(_np.negative(v, out=v), out=v)
        else:
            v = _np.asarray(_sp.ndtr(v))
            v = _np.log(v, out=v)
        out[idx] = v
    return out.reshape(x.shape)


# -- incomplete gamma and beta functions -------------------------------------------------------

_BETA_SHAPE_NOTE = """The derivative with respect to ``x`` is exact ({slope}, computed in
    logarithms; any order). The derivatives with respect to ``a`` and ``b`` come from the
    extra ``betainc_dab`` (:mod:`functrans.backends.incomplete_grads`: the continued fraction
    differentiated term by term, with a Stirling-form prefactor, on the side of the symmetry
    ``I_x(a, b) = 1 - I_(1-x)(b, a)`` where it converges fast, and the power series where a
    small shape makes the function close to 1; about 1e-12 relative in float64 for ``a``,
    ``b`` from 1e-3 to 1e4, also where the function or its complement is far below 1), to
    third order in ``a`` and ``b``, pure and mixed (the third carried through the same
    paths as truncated Taylor series in the shapes: about 1e-13 relative against mpmath,
    1e-9 at the centre of shapes beyond 1e4 as the second order; a fourth derivative in
    them raises NotImplementedError), and any order in ``x`` after those."""


def _any(*masks):
    # (fnp's functions, not operators: a mask of a plain array of a library whose operators
    # refuse tracers may meet a traced one)
    out = masks[0]
    for m in masks[1:]:
        out = fnp.logical_or(out, m)
    return out


def _all(*masks):
    out = masks[0]
    for m in masks[1:]:
        out = fnp.logical_and(out, m)
    return out


def _gamma_edges(a, x, lower):
    """P (lower) or Q, with SciPy's values at the edges of the domain."""
    bad = _any(a < 0.0, x < 0.0, _all(a == 0.0, x == 0.0), _all(a == _inf, x == _inf),
               a != a, x != x)
    # (x = 0 with 0 < a < inf goes through the primitive, which gives P = 0 there, so
    # that the derivative in x is the slope's limit)
    at_lo = a == _inf   # P = 0, Q = 1
    at_hi = _any(x == _inf, a == 0.0)   # P = 1, Q = 0
    ok = fnp.logical_not(_any(bad, at_lo, at_hi))
    a_s, x_s = _where(ok, a, 1.0), _where(ok, x, 1.0)
    out = (_sp.gammainc if lower else _sp.gammaincc)(a_s, x_s)
    one, zero = fnp.ones_like(out), fnp.zeros_like(out)
    out = _where(at_hi, one if lower else zero, out)
    out = _where(at_lo, zero if lower else one, out)
    return _where(bad, math.nan, out)


def gammainc(a, x, /):
    """The regularized lower incomplete gamma function
    ``P(a, x) = 1/Gamma(a) * integral_0^x t^(a-1) exp(-t) dt`` for ``a >= 0``, ``x >= 0``.

    As SciPy: 0 at ``x = 0``, 1 at ``x = inf`` and at ``a = 0`` (``x > 0``), 0 at
    ``a = inf``; nan for negative arguments, nan, ``a = x = 0`` and ``a = x = inf``. Values
    from SciPy on NumPy (for ``a >= 1e5`` the generic code's: SciPy 1.17's lose accuracy
    below the centre from ``a`` of about 1e6, 19 % at ``gammainc(1e8, 1e8 - 8e4)``; the
    check is on the operands' values where the backend computes, so under jit too) and
    cupyx on CuPy; elsewhere (torch, whose own ``gammainc`` is
    accurate to about 2e-9 only, array-api-strict) from the generic series / continued
    fractions of :mod:`functrans.backends.generic` (about 1e-13 relative for moderate
    ``a``).
    """
    a, x = _real_pair(a, x, "gammainc")
    return _gamma_edges(a, x, True)


def gammaincc(a, x, /):
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``, computed
    directly, so accurate where it is tiny (``x`` far above ``a``).

    Edge values are the complements of :func:`gammainc`'s (nan at the same places).
    """
    a, x = _real_pair(a, x, "gammaincc")
    return _gamma_edges(a, x, False)


def betainc(a, b, x, /):
    """The regularized incomplete beta function
    ``I_x(a, b) = 1/B(a, b) * integral_0^x t^(a-1) (1-t)^(b-1) dt`` for ``a, b >= 0`` and
    ``0 <= x <= 1``.

    As SciPy: 0 at ``x = 0`` and 1 at ``x = 1``; inside, 1 where ``a = 0`` or ``b = inf``
    and 0 where ``b = 0`` or ``a = inf``; nan for negative ``a`` or ``b``, ``x`` outside
    [0, 1], nan, ``a = b = 0`` and ``a = b = inf``. Values from SciPy or cupyx where the
    backend has them, elsewhere (torch, array-api-strict) from the generic continued
    fraction of :mod:`functrans.backends.generic`. float32 (and 16-bit) operands are computed
    in float64 and rounded once (SciPy's own float32 loop is up to 8e-4 off).
    """
    a, b, x = _real_weak((a, b, x), "betainc")   # (SciPy's 'fff->f' first: a Python number weak)
    return _in64_many(_betainc, (a, b, x))


def _in32_half(fn, args):
    """``fn(*args)`` of operands of one 16-bit float type (:func:`_real_weak`'s) computed in
    float32 and rounded once to it, for the functions whose float32 arithmetic is their
    float32 result's (composed of functrans's operations, in 16 bits each operation would
    round: ``betaln`` was 30 float16 ulp off, ``log_ndtr`` 4)."""
    d = _dtype(args[0])
    return fnp.astype(fn(*(fnp.astype(v, _dt.float32) for v in args)), d)


def _in64_many(fn, args):
    """``fn(*args)`` computed in float64 where the (common) dtype is float32 or 16-bit,
    rounded once to it (the float32 paths lost up to 8e-4 relative: SciPy's own float32
    loop on NumPy, the generic series in float32 1e-5 on torch)."""
    d = _dtype(args[0])
    if d is _dt.float32 or d in _HALF:
        return fnp.astype(fn(*(fnp.astype(v, _dt.float64) for v in args)), d)
    return fn(*args)


def _betainc(a, b, x):
    bad = _any(a < 0.0, b < 0.0, x < 0.0, x > 1.0, _all(a == 0.0, b == 0.0),
               _all(a == _inf, b == _inf), a != a, b != b, x != x)
    # (x = 0 and x = 1 with 0 < a, b < inf go through the primitive, which gives 0 and 1
    # there, so that the derivative in x is the slope's limit, as for gammainc)
    inner = _all(a > 0.0, b > 0.0, a < _inf, b < _inf)
    to_one = _any(_all(x == 1.0, fnp.logical_not(inner)),
                  _all(_any(a == 0.0, b == _inf), x != 0.0))
    to_zero = _any(_all(x == 0.0, fnp.logical_not(inner)), b == 0.0, a == _inf)
    ok = fnp.logical_not(_any(bad, to_one, to_zero))
    out = _sp.betainc(_where(ok, a, 1.0), _where(ok, b, 1.0), _where(ok, x, 0.5))
    out = _where(to_one, fnp.ones_like(out), _where(to_zero, fnp.zeros_like(out), out))
    return _where(bad, math.nan, out)


_GAMMA_SHAPE_NOTE = """The derivative with respect to ``x`` is exact ({slope}, computed in
    logarithms; any order). The derivative with respect to ``a`` is {sign}``d/da P(a, x)`` of
    the extra ``gammainc_da`` (:mod:`functrans.backends.incomplete_grads`: the power series
    and Legendre's continued fraction differentiated in ``a``, about 1e-13 relative in
    float64 for ``a`` from 1e-3 to 1e4, also where the function is far below 1), to third
    order in ``a`` (the third from Kummer's series of ``P`` up to ``x = a + 1 + sqrt(a)/2``,
    beyond from the continued fraction of ``Q`` with its log-derivatives carried to the
    third: about 1e-13 relative against mpmath for ``a`` up to 1e5; NotImplementedError
    near ``x = a + 1`` for ``a`` of about 2e5 or more, where the series does not converge
    in its term limit, and for a fourth derivative in ``a``), and any order in ``x`` after
    those."""


gammainc.__doc__ += "\n    " + _GAMMA_SHAPE_NOTE.format(
    slope="``exp(-x) x^(a-1) / Gamma(a)``", sign="")
gammaincc.__doc__ += "\n    " + _GAMMA_SHAPE_NOTE.format(
    slope="``-exp(-x) x^(a-1) / Gamma(a)``", sign="minus ")
betainc.__doc__ += "\n    " + _BETA_SHAPE_NOTE.format(
    slope="``x^(a-1) (1-x)^(b-1) / B(a, b)``")


# -- inverses of the incomplete gamma and beta functions ---------------------------------------

_INVERSE_NOTE = """The derivative with respect to ``y`` is {slope} (one over the forward
    function's derivative at the result, computed in logarithms; differentiable again); {shape}
    Values from SciPy on NumPy (the generic code's for ``a >= 1e5`` in the gamma inverses:
    SciPy 1.17's ``gammaincinv(1e6, 1e-12)`` is 1.1e-11 off), from cupyx on CuPy where it
    has the function, elsewhere from the
    bracketed Halley iteration of :mod:`functrans.backends.generic` (float64 inside; about
    1e-13 relative for moderate shapes, less for shapes below 1e-2, where the problem is
    ill-conditioned). The result's dtype is float32 only for float32 operands, as SciPy's."""

_GAMMA_INVERSE_SHAPE = """the derivative with
    respect to ``a`` is ``-(d/da P(a, x)) / (d/dx P(a, x))`` at the result ``x`` (the same
    for both inverses), with ``d/da P`` from ``gammainc_da``; to third order in ``a``."""

_BETA_INVERSE_SHAPE = """the derivatives with
    respect to ``a`` and ``b`` are ``-(d/da I) / (d/dx I)`` and ``-(d/db I) / (d/dx I)`` at
    the result ``x``, with the shape derivatives of ``betainc_dab``; third order in ``a``,
    ``b``."""


def _gamma_inverse(a, y, upper, name):
    a, y = _real_pair(a, y, name)
    bad = _any(a < 0.0, y < 0.0, y > 1.0, a != a, y != y)
    at0 = y == (1.0 if upper else 0.0)    # x = 0
    at_inf = y == (0.0 if upper else 1.0)  # x = inf
    # inside (0 < y < 1): a = 0 and a = inf have no root (nan), as SciPy
    no_root = fnp.logical_and(fnp.logical_not(_any(at0, at_inf)),
                              _any(a == 0.0, a == _inf))
    ok = fnp.logical_not(_any(bad, at0, at_inf, no_root))
    out = (_sp.gammainccinv if upper else _sp.gammaincinv)(_where(ok, a, 1.0),
                                                           _where(ok, y, 0.5))
    out = _where(at0, fnp.zeros_like(out), _where(at_inf, _inf, out))
    return _where(fnp.logical_or(bad, no_root), math.nan, out)


def gammaincinv(a, y, /):
    """The inverse of :func:`gammainc` in ``x``: the ``x >= 0`` with ``P(a, x) = y``, for
    ``a >= 0`` and ``0 <= y <= 1``.

    As SciPy: 0 at ``y = 0`` and ``inf`` at ``y = 1`` (any ``a >= 0``); nan for negative
    ``a``, ``y`` outside [0, 1], nan, and for ``a = 0`` or ``a = inf`` with ``0 < y < 1``.
    Where the root is below the smallest float the result is 0.
    """
    return _gamma_inverse(a, y, False, "gammaincinv")


def gammainccinv(a, y, /):
    """The inverse of :func:`gammaincc` in ``x``: the ``x >= 0`` with ``Q(a, x) = y``, for
    ``a >= 0`` and ``0 <= y <= 1``; accurate for tiny ``y`` (far in the upper tail).

    As SciPy: ``inf`` at ``y = 0`` and 0 at ``y = 1``; nan where :func:`gammaincinv` is.
    """
    return _gamma_inverse(a, y, True, "gammainccinv")


def betaincinv(a, b, y, /):
    """The inverse of :func:`betainc` in ``x``: the ``x`` in [0, 1] with
    ``I_x(a, b) = y``, for ``a, b > 0`` and ``0 <= y <= 1``.

    As SciPy: 0 at ``y = 0`` and 1 at ``y = 1`` (any ``a, b > 0``, infinite ones too); nan
    for ``a <= 0`` or ``b <= 0``, ``y`` outside [0, 1], nan, and for ``a = b = inf`` with
    ``0 < y < 1``. With one infinite shape and ``0 < y < 1`` the limit of the quantile
    (:func:`betainc` is then a step at 0 or 1): 0 for ``b = inf``, 1 for ``a = inf`` (SciPy
    gives these where the other shape is 1, nan elsewhere), with zero derivatives. Where the root is below the smallest normal float the result is
    that float (``2.2e-308`` in float64), as SciPy gives it.
    """
    a, b, y = _real_weak((a, b, y), "betaincinv")   # (SciPy's 'fff->f' first: a Python number weak)
    return _in64_many(_betaincinv, (a, b, y))


def _betaincinv(a, b, y):
    bad = _any(a <= 0.0, b <= 0.0, y < 0.0, y > 1.0, a != a, b != b, y != y)
    at0, at1 = y == 0.0, y == 1.0
    inside = fnp.logical_not(fnp.logical_or(at0, at1))
    # (0 < y < 1 with one infinite shape: the limit of the quantile, 0 for b = inf and 1
    # for a = inf, the other finite; nan for both infinite)
    to0 = _all(inside, b == _inf, a < _inf)
    to1 = _all(inside, a == _inf, b < _inf)
    no_root = _all(inside, a == _inf, b == _inf)
    ok = fnp.logical_not(_any(bad, at0, at1, no_root, to0, to1))
    out = _sp.betaincinv(_where(ok, a, 1.0), _where(ok, b, 1.0), _where(ok, y, 0.5))
    out = _where(fnp.logical_or(at0, to0), fnp.zeros_like(out),
                 _where(fnp.logical_or(at1, to1), fnp.ones_like(out), out))
    return _where(fnp.logical_or(bad, no_root), math.nan, out)


gammaincinv.__doc__ += "\n    " + _INVERSE_NOTE.format(
    slope="``exp(x - (a-1) log x) Gamma(a)`` at ``x = gammaincinv(a, y)``",
    shape=_GAMMA_INVERSE_SHAPE)
gammainccinv.__doc__ += "\n    " + _INVERSE_NOTE.format(
    slope="``-exp(x - (a-1) log x) Gamma(a)`` at ``x = gammainccinv(a, y)``",
    shape=_GAMMA_INVERSE_SHAPE)
betaincinv.__doc__ += "\n    " + _INVERSE_NOTE.format(
    slope="``B(a, b) x^(1-a) (1-x)^(1-b)`` at ``x = betaincinv(a, b, y)``",
    shape=_BETA_INVERSE_SHAPE)


# -- special14: erfcx, Bessel i0/i1, exponential integrals, dawsn, zeta, gamma-related -----------


def _in64(fn, x):
    """``fn(x)`` computed in float64, in ``x``'s dtype (float32, float16 and bfloat16
    rounded once, as SciPy's float32 loops compute; in 16 bits the series and constants
    would overflow)."""
    d = _dtype(x)
    if d is _dt.float32 or d in _HALF:
        return fnp.astype(fn(fnp.astype(x, _dt.float64)), d)
    return fn(x)


_FLOAT32_ABLE = _SMALL | {"float32"}
_HALF_AS_FLOAT32 = {"float16": "float32", "bfloat16": "float32"}
_FLOAT32_OR_HALF = _FLOAT32_ABLE | set(_HALF_AS_FLOAT32)
_LOW = frozenset((_dt.float32,) + _dt.HALF)   # (the dtypes computed in float64, rounded once)


# what each of SciPy's loop types takes by NumPy's safe casting (dtype names)
_LOOP_TAKES = {"f": _FLOAT32_ABLE | {"bool", "float16", "bfloat16"},
               "d": None,   # (every real dtype)
               "l": frozenset(("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32",
                               "int64"))}


def _scipy_loop(args, loops):
    """The type ('f' or 'd') of the loop NumPy 2 picks among a SciPy ufunc's ``loops`` (its
    input signatures in SciPy's order, say ``("lld", "fff", "ddd")``) for operands ``args``:
    an exact match of the arrays' dtypes (every operand an array) first, else the first loop
    that takes each operand by safe casting, a Python int weak (any loop type) and a Python
    float weak among the floating ones; every operand a Python number: as float64 / int64
    arrays. (SciPy's betainc(np.float32(2), np.float32(3), 0.5) is float32: 'fff' comes
    first; hyp2f1 with a Python number float64: 'dddd' does; nbdtr(1, 2, np.float32(.5))
    float64: 'lld' takes the Python ints.)"""
    py = [type(a) in _SCALARS for a in args]
    # (a 16-bit float as float32: the loop float32 operands get; see _real_weak)
    names = ["int64" if (p and type(a) is not float) else "float64" if p else
             _HALF_AS_FLOAT32.get(_dtype(a).name, _dtype(a).name) for a, p in zip(args, py)]
    if all(py):
        py = [False] * len(args)
    if not any(py):
        exact = "".join({"float32": "f", "float64": "d", "int64": "l"}.get(n, "?")
                        for n in names)
        if exact in loops:
            return exact[-1] if exact[-1] != "l" else "d"
    for loop in loops:
        if all((c in "fd" or type(a) is not float) if p else
               (_LOOP_TAKES[c] is None or n in _LOOP_TAKES[c])
               for c, a, p, n in zip(loop, args, py, names)):
            return "f" if loop[-1] == "f" else "d"
    return "d"


def _real_weak(args, name, loops=None):
    """Operands of a SciPy ufunc whose float32 loop comes first (``ff->f``): float32 where
    every array operand is float32 or a small integer type, float64 otherwise; Python numbers
    take the arrays' dtype (NumPy 2's weak scalars); broadcast together. With ``loops`` (the
    ufunc's input signatures in SciPy's order), float32 where NumPy picks a float32 loop
    (:func:`_scipy_loop`). A 16-bit float counts as float32 (SciPy's float16 loops are its
    float32 ones; JAX keeps the 16-bit type): where that gives float32 and the arrays promote
    to float16 or bfloat16, the operands are in that type, and the caller computes them in
    float64 (:func:`_in64_many`) or float32 (:func:`_in32_half`) and rounds once."""
    args = [_array_like(a) for a in args]
    for a in args:
        if type(a) is complex:
            raise TypeError(f"{name}: complex input is not supported (real only)")
    arrays = [a for a in args if type(a) not in _SCALARS]
    if loops is not None:
        for a in arrays:
            if _dtype(a).kind == "c":
                raise TypeError(f"{name}: complex input ({_dtype(a).name}) is not supported")
        target = _dt.float32 if arrays and _scipy_loop(args, loops) == "f" else _dt.float64
    elif arrays and all(_dtype(a).name in _FLOAT32_OR_HALF for a in arrays):
        target = _dt.float32
    else:
        target = _dt.float64
    if target is _dt.float32 and not all(_dtype(a) is _dt.float32 for a in arrays) and any(
            _dtype(a) in _HALF for a in arrays):
        target = _dt.result_type(*(_dtype(a) for a in arrays))  # (float16 with bfloat16: float32)
    if not arrays:
        return fnp.broadcast_arrays(*[_to_array(a, _dt.float64) for a in args])
    first = arrays[0]
    out = []
    for a in args:
        if type(a) in _SCALARS:
            out.append(fnp.full_like(first, float(a), dtype=target))
        else:
            d = _dtype(a)
            if d.kind == "c":
                raise TypeError(f"{name}: complex input ({d.name}) is not supported")
            out.append(a if d is target else _st.convert_element_type(a, target))
    return fnp.broadcast_arrays(*out)


def erfcx(x, /):
    """The scaled complementary error function ``exp(x**2) * erfc(x)``: finite (about
    ``1 / (sqrt(pi) x)``) where ``erfc`` underflows; ``inf`` below about -26.6 (overflow);
    below -1 ``2 exp(x**2) - erfcx(-x)`` with ``x**2`` exact (within 3 ulp: SciPy's and
    torch's take exp of the rounded square, 470 ulp near -24); on (-1/2, 1/2) ``1 + x R(x)``
    with ``R`` a polynomial (within 1.3 ulp: SciPy's and torch's are up to 8 ulp off there).

    Derivative: ``2 x erfcx(x) - 2/sqrt(pi)``, evaluated without its cancellation for
    ``x >= 0.5`` (Taylor polynomials below 20, the asymptotic series beyond: within about an
    ulp, the higher derivatives too; see the primitive ``erfcx_deriv``). Values from SciPy,
    ``torch.special`` or cupyx where the backend has them, else the generic continued
    fraction / series of :mod:`functrans.backends.special_generic` (about 1e-14 relative in
    float64). float32 input is computed in float64 and rounded."""
    return _in64(_sp.erfcx, _real(x, "erfcx"))


def _bessel(name, prim, x, at_inf):
    x = _real(x, name)
    out = _in64(prim, x)
    if at_inf is None:
        return out
    # at +-inf SciPy gives nan (i0, i1) or +-0 (i0e, i1e): the same on every backend
    return _where(fnp.isinf(x), fnp.multiply(fnp.sign(x), at_inf) if at_inf == 0.0
                  else math.nan, out)


def i0(x, /):
    """The modified Bessel function of the first kind of order 0, ``I_0(x)`` (even).

    Derivative: ``i1(x)``. Overflows to ``inf`` beyond about 713; at ``+-inf`` nan, as SciPy
    gives it. Values from SciPy, ``torch.special`` or cupyx where the backend has them, else
    the power series / asymptotic expansion of :mod:`functrans.backends.special_generic`
    (about 2e-15 relative)."""
    return _bessel("i0", _sp.i0, x, math.nan)


def i0e(x, /):
    """The exponentially scaled modified Bessel function ``exp(-|x|) I_0(x)``: finite for all
    ``x`` (0 at +-inf). Derivative: ``i1e(x) - sign(x) i0e(x)`` (the average of the two
    one-sided derivatives, 0, at ``x = 0``)."""
    return _bessel("i0e", _sp.i0e, x, None)


def i1(x, /):
    """The modified Bessel function of the first kind of order 1, ``I_1(x)`` (odd).

    Derivative: ``i0(x) - i1(x)/x`` (1/2 at 0, higher derivatives there from the Taylor
    series). nan at ``+-inf``, as SciPy gives it."""
    return _bessel("i1", _sp.i1, x, math.nan)


def i1e(x, /):
    """The exponentially scaled modified Bessel function ``exp(-|x|) I_1(x)`` (``+-0`` at
    ``+-inf``). Derivative: ``i0e(x) - sign(x) i1e(x) - i1e(x)/x`` (1/2 at 0)."""
    return _bessel("i1e", _sp.i1e, x, 0.0)


def exp1(x, /):
    """The exponential integral ``E_1(x) = integral_1^inf exp(-x t) / t dt`` for real
    ``x > 0``: ``inf`` at 0, 0 at ``inf``, nan for ``x < 0`` (SciPy's real function; its
    complex continuation is not supported). Derivative: ``-exp(-x) / x``. Small integer
    types give float32, as SciPy's loops."""
    return _in64(_sp.exp1, _real(x, "exp1", small_to_float32=True))


def expi(x, /):
    """The exponential integral ``Ei(x)`` (the principal value of
    ``integral_-inf^x exp(t) / t dt``): ``-E_1(-x)`` for ``x < 0``, ``-inf`` at 0, ``inf``
    beyond about 716. On [0.28, 0.48], about its root 0.3725..., as ``(x - x0) Q(x)`` with
    ``x0`` in two parts and ``Q`` a polynomial: within 2 ulp (the libraries' series is about
    1e-16 absolute off: 2000 ulp on (0.35, 0.4), 8e15 at the root's float64).
    Derivative: ``exp(x) / x``."""
    return _in64(_sp.expi, _real(x, "expi", small_to_float32=True))


def expn(n, x, /):
    """The generalized exponential integral ``E_n(x) = integral_1^inf exp(-x t) / t**n dt``.

    ``n`` is a Python integer or float, or a concrete array of orders broadcast against
    ``x`` (as SciPy and JAX take it: each order present is computed once and selected; a
    traced array: TypeError). Non-integral orders are truncated towards 0 as SciPy does
    (``expn(0.7, 1.)`` is ``expn(0, 1.)``, SciPy's with a RuntimeWarning; JAX gives nan).
    Negative ``n`` gives nan, as SciPy, and so does an infinite or nan order in an array of
    orders. ``x >= 0``: ``E_n(0)`` is ``inf`` for ``n <= 1`` and
    ``1 / (n - 1)`` above; nan for ``x < 0``. The result is float64 whatever the floating
    dtype of ``x``, as SciPy gives it for a Python int ``n`` or integer orders; float32 where
    the orders are an array of float32 (or a narrower float) and ``x`` one too or a Python
    number, or ``n`` a Python float and ``x`` a float32 array, as SciPy's loops give it
    (computed in float64). Derivative in ``x``:
    ``-E_(n-1)(x)`` (``E_0 = exp(-x)/x``); there is none in the integer order ``n``."""
    if type(n) is float:
        if not math.isfinite(n):
            # (SciPy: nan, as for a negative order)
            return fnp.full_like(fnp.astype(_real(x, "expn"), _dt.float64), math.nan)
        # a Python float: truncated towards 0 as SciPy's loop 'ff->f' does (with a
        # RuntimeWarning there; JAX gives nan for a non-integral order), float32 with a
        # float32 x as that loop gives it
        xr = _real(_array_like(x), "expn")
        out = expn(math.trunc(n), xr)
        if type(x) not in _SCALARS and _dtype(xr) in _LOW:
            out = fnp.astype(out, _dtype(xr))
        return out
    if _is_order_array(n):
        nd = _dtype(_array_like(n))
        if nd.kind == "f":
            n = fnp.trunc(_array_like(n))
        out = _by_order("expn", n, x, lambda k, x: expn(k, x), lambda v: v >= 0)
        if nd.kind == "f" and nd.bits <= 32 and (type(x) in _SCALARS or (
                _dtype(_array_like(x)).kind == "f" and _dtype(_array_like(x)).bits <= 32)):
            # (SciPy's loop 'ff->f'; a Python number is weak, as in NumPy; 16-bit floats
            # counted as float32 and kept, as in _real_weak)
            low = nd if type(x) in _SCALARS else _dt.result_type(nd, _dtype(_array_like(x)))
            out = fnp.astype(out, low if low in _HALF else _dt.float32)
        return out
    try:
        order = operator.index(n)
    except TypeError:
        raise TypeError(f"expn: n must be a Python int or float or an array of orders; got "
                        f"{type(n).__name__}. The function has no derivative in its integer "
                        f"order.") from None
    x = fnp.astype(_real(x, "expn"), _dt.float64)
    if order < 0:
        return fnp.full_like(x, math.nan)
    if order == 0:
        pos = x > 0.0
        xs = _where(pos, x, 1.0)
        out = _where(pos, fnp.exp(-xs) / xs, _where(x == 0.0, fnp.full_like(x, _inf), math.nan))
        return _where(x != x, x, out)
    return _sp.expn(x, n=order)


def dawsn(x, /):
    """Dawson's integral ``D(x) = exp(-x**2) * integral_0^x exp(t**2) dt`` (odd; about
    ``1 / (2x)`` for large ``|x|``). Derivative: ``1 - 2 x D(x)``, which cancels from
    ``|x| = 0.8`` on (the recursion of the higher ones further): on [1/2, 14) (orders up to
    24) Taylor polynomials about a grid, within a few ulp; from ``|x| = 8`` (larger bounds
    past the sixth order) D's asymptotic series differentiated term by term, within about an
    ulp. Values from SciPy or
    cupyx, else Rybicki's sum of Gaussians in :mod:`functrans.backends.special_generic`
    (about 1e-15 relative); below ``|x| = 1/2`` (on NumPy 0.2) from D's Maclaurin series,
    within an ulp (SciPy's and cupyx's are up to 84 ulp off on (0.01, 0.05), 5 on (0.2,
    0.5))."""
    return _in64(_sp.dawsn, _real(x, "dawsn"))


def zeta(x, q=None):
    """The Hurwitz zeta function ``zeta(x, q) = sum_k (k + q)**-x`` (``x > 1``), or with
    ``q=None`` the Riemann zeta function ``zeta(x)`` for all real ``x``.

    Hurwitz, as SciPy: ``inf`` at ``x = 1`` and at the poles ``q = 0, -1, -2, ...``; nan for
    ``x < 1``, for negative non-integer ``q`` with non-integer ``x``, and for nan; 0 at
    ``q = inf``; at ``x = inf``: 1 for ``q = 1``, ``inf`` for ``q < 1``, nan for ``q > 1``
    (SciPy's value; the limit is 0); above ``x = 1000`` the sum's first two terms, which
    are the sum in float64 (SciPy gives nan from about 1e15). Without a library version
    (torch has one; array-api-strict does not) negative ``q`` below about -48 give nan.
    Riemann: ``inf`` at 1, 0 at the negative even integers, 1 at ``inf``, nan at ``-inf``;
    below 1/2 by the reflection formula (the relative error grows like
    ``|log zeta(x)| eps``, about 1e-13 near x = -200, where SciPy's is about 2e-14).

    Derivatives: in ``q``, ``-x zeta(x + 1, q)`` (any order). In ``x``,
    ``-sum_k log(k + q) (k + q)**-x``, by the Euler-Maclaurin formula differentiated in
    ``x`` (ten terms, then ten Bernoulli terms: about 1e-13 relative, any order), for
    ``x > 1`` and ``q > 0``; nan for a negative ``q`` (where an integer ``x`` has a real
    value, its derivative in ``x`` is not real), and 0 where an edge above gives the value.
    The Riemann function's (``q=None``) derivative holds for every real ``x`` but the pole
    (about 1e-14 relative, any order): above 1 the Hurwitz function's at ``q = 1``, from
    -1/2 to 1 the same series, below -1/2 the reflection formula differentiated; nan at
    ``x = 1`` (the limit is ``-inf`` from both sides), at ``-inf`` and at nan, 0 at ``inf``,
    ``inf`` or nan below about -170, where the reflection's factor overflows. ``zeta(x,
    1.0)`` is the Hurwitz function: nan below 1, as SciPy's and JAX's (its derivative 0
    there, as at the other edges), where ``zeta(x)`` continues it."""
    if q is None:
        return _in64(_sp.riemann_zeta, _real(x, "zeta"))
    x, q = _real_weak((x, q), "zeta")
    if _dtype(x) in _LOW:
        return _in64_many(zeta, (x, q))
    # the edges in SciPy's order of precedence (the last applied wins)
    pole = _all(q <= 0.0, q == fnp.floor(q))
    at_inf = x == _inf
    ok = fnp.logical_not(_any(x <= 1.0, x != x, q != q, pole, q < 0.0, at_inf, q == _inf))
    # (negative q with an integer x: by the direct sum; its derivative needs it too)
    ok = fnp.logical_or(ok, _all(x > 1.0, fnp.logical_not(at_inf), q < 0.0,
                                 fnp.logical_not(pole), x == fnp.floor(x)))
    # A huge exponent: the first two terms are the sum in float64 (for q > 2 it underflows,
    # as each term does; SciPy's series gives nan from about x = 1e15 on, the generic 1e18)
    huge = _all(ok, x > 1e3, q > 0.0)
    xh, qh = _where(huge, x, 2.0), _where(huge, q, 1.0)
    direct = fnp.add(fnp.power(qh, fnp.negative(xh)), fnp.power(fnp.add(qh, 1.0),
                                                                 fnp.negative(xh)))
    ok = _all(ok, fnp.logical_not(huge))
    out = _where(huge, direct, _sp.zeta(_where(ok, x, 2.0), _where(ok, q, 1.0)))
    out = _where(_any(x != x, q != q), math.nan, out)
    out = _where(at_inf, _where(q == 1.0, 1.0, _where(q < 1.0, fnp.full_like(out, _inf),
                                                       math.nan)), out)
    out = _where(_all(q == _inf, x == x), 0.0, out)
    out = _where(_all(q < 0.0, x != fnp.floor(x), fnp.logical_not(pole)), math.nan, out)
    out = _where(pole, _inf, out)
    out = _where(x < 1.0, math.nan, out)
    return _where(x == 1.0, _inf, out)


def loggamma(x, /):
    """The principal branch of ``log(Gamma(x))`` for real ``x``: ``gammaln(x)`` for
    ``x >= 0`` (``inf`` at 0) and nan for ``x < 0`` and ``-inf``, as SciPy's real function.
    Complex input (SciPy's main use of it) is not supported. Derivative: ``digamma(x)``."""
    x = _real(x, "loggamma")
    return _where(x < 0.0, math.nan, _sp.lgamma(x))


def gammasgn(x, /):
    """The sign of the gamma function: 1 for ``x > 0`` (and ``+0``, ``inf``), -1 on
    ``(-1, 0)``, ``(-3, -2)``, ... and at ``-0.0``, 1 on ``(-2, -1)``, ...; nan at the
    negative integers, ``-inf`` and nan, as SciPy. Its derivative is 0 (piecewise
    constant)."""
    x = fnp.stop_gradient(_real(x, "gammasgn"))
    out = _where(x == 0.0, fnp.copysign(fnp.ones_like(x), x), _gamma_sign(x))
    return _where(_any(_all(x < 0.0, x == fnp.floor(x)), x != x), math.nan, out)


def multigammaln(a, d):
    """The logarithm of the multivariate gamma function of dimension ``d``,
    ``d (d - 1) / 4 log(pi) + sum_{j=1..d} gammaln(a + (1 - j) / 2)``.

    ``d`` is a positive Python integer. Where ``a <= (d - 1) / 2`` (outside the domain)
    the result is nan; SciPy raises ValueError there, which needs the values (not possible
    on traced arrays). The result is float64, as SciPy gives it. Derivative in ``a``:
    ``sum_j digamma(a + (1 - j) / 2)``."""
    try:
        dim = operator.index(d)
    except TypeError:
        raise TypeError(f"multigammaln: d must be a Python int (the dimension); got "
                        f"{type(d).__name__}") from None
    if dim < 1:
        raise ValueError(f"multigammaln: d should be a positive integer (dimension); got {dim}")
    a = fnp.astype(_real(a, "multigammaln"), _dt.float64)
    out = dim * (dim - 1) / 4.0 * math.log(math.pi)
    for j in range(1, dim + 1):
        out = fnp.add(_sp.lgamma(a + (1.0 - j) / 2.0), out)
    return _where(a <= 0.5 * (dim - 1), math.nan, out)


def _log_poch_positive(z, m):
    """log(Gamma(z + m) / Gamma(z)) for z, z + m >= 10, without the cancellation of two large
    log-gamma values: (z - 1/2) log1p(m / z) + m log(z + m) - m + tail(z + m) - tail(z)."""
    # (fnp's functions, not operators, between z and m: one of them may be a plain array of a
    # library whose operators refuse tracers, array-api-strict's)
    s = fnp.add(z, m)
    # (log(s / z) where s is far below z: the rounding of m / z before log1p cost its
    # relative error times z / s, binom(-1e6 - 0.3, -999979.8) 3.7e-7 off)
    r = fnp.divide(m, z)
    low = r < -0.5
    if _may_hold(low):
        log_ratio = _where(low, fnp.log(fnp.divide(_where(low, s, z), z)),
                           fnp.log1p(_where(low, 0.0, r)))
    else:
        log_ratio = fnp.log1p(r)
    main = fnp.add(fnp.multiply(z - 0.5, log_ratio), fnp.multiply(m, fnp.log(s) - 1.0))
    # (the difference of Stirling's corrections with the factor m where some element has a
    # small m beside z, and under jit: its error is below the plain difference's everywhere,
    # at about 1.15 times its cost; the plain one's error, eps w(z), is below eps |m| / z
    # where m is not small)
    small = fnp.abs(fnp.stop_gradient(m)) < 1e-2 * fnp.stop_gradient(z)
    if _may_hold(small):
        return fnp.add(main, _stirling_difference(s, z, m))
    return fnp.add(main, fnp.subtract(_stirling_correction(s), _stirling_correction(z)))


def _stirling_difference(s, z, m):
    """``w(s) - w(z)`` for ``s = z + m`` (Stirling's correction ``w``, ``sum_j c_j / x^p``,
    ``p = 2j - 1``) with a factor ``m``: each ``c_j (u^p - v^p)`` (``u = 1/s``, ``v = 1/z``)
    as ``c_j (u - v) h_(p-1)(u, v)``, ``u - v = -m u v``, ``h_q = sum_i u^i v^(q-i)`` by
    ``h_q = u^q + v h_(q-1)`` (positive terms), so that a small ``m`` keeps its relative
    precision: the plain difference's error, eps w(z), was 1e-6 of the derivatives of
    binom(10.3, 1e-12), and all of them where ``z + m`` rounds to ``z``."""
    c = _incomplete_grads._STIRLING
    u, v = fnp.divide(1.0, s), fnp.divide(1.0, z)
    # (two degrees a step: h_(q+2) = u^(q+1) (u + v) + v^2 h_q)
    e1, u2, v2 = fnp.add(u, v), fnp.multiply(u, u), fnp.multiply(v, v)
    total, h, u_odd = c[0], 1.0, u
    for j in range(1, len(c)):
        h = fnp.add(fnp.multiply(u_odd, e1), fnp.multiply(v2, h))
        total = fnp.add(total, fnp.multiply(c[j], h))
        if j < len(c) - 1:
            u_odd = fnp.multiply(u_odd, u2)
    return fnp.multiply(fnp.negative(fnp.multiply(m, fnp.multiply(u, v))), total)


def poch(z, m, /):
    """The Pochhammer symbol (rising factorial) ``Gamma(z + m) / Gamma(z)`` for real ``z``
    and ``m``.

    As SciPy: 1 for ``m == 0``; 0 where ``z`` is a pole (0, -1, ...) and ``z + m`` is not;
    ``(-1)^m Gamma(1 - z) / Gamma(1 - z - m)`` where both are; ``inf`` where only ``z + m``
    is. Elsewhere ``exp(E) F``: a gamma function of an argument below 1/2 reflected,
    ``Gamma(x) = pi / (sin(pi x) Gamma(1 - x))``, its sine in ``F`` (``sin(pi z) / pi``,
    ``pi / sin(pi (z + m))`` or their quotient, the sines' arguments reduced exactly, ``z + m``
    with its rounding error: accurate next to the poles, and so are the derivatives, which
    vanish or blow up with ``F``), ``E`` the log-gamma values of the arguments (all at least
    1/2), their difference by Stirling's series where both are at least 10 (so that it keeps
    its precision for large ``|z|``), and for a small ``|m|`` (below 1/4) by the recurrence up
    to 10 and Stirling's series, which keep ``m``'s relative precision (also in the
    derivatives); the relative error grows like ``|log poch| eps``.
    Derivatives: ``poch (digamma(z + m) - digamma(z))`` in ``z``, ``poch digamma(z + m)`` in
    ``m`` (not at the poles); where the value overflows, the signed infinities (see
    :func:`_exp_product`). nan for ``z`` or ``m`` equal to ``-inf`` (SciPy gives the limit
    where there is one); at ``z = inf`` the limit, ``inf`` for ``m > 0`` (SciPy: nan), 1 for
    ``m = 0``, 0 for ``m < 0``."""
    z, m = _real_weak((z, m), "poch")
    if _dtype(z) in _LOW:
        # (in float64, rounded once: float32's own exp overflowed in the slopes below its
        # largest value, grad(poch)(float32 46.97, 21.68) = (4.4e37, inf) was (nan, inf),
        # and d/dm poch(1.4616, 1e-4) was 6e-4 off)
        return _in64_many(poch, (z, m))
    s = fnp.add(z, m)
    # z + m is s + e exactly (Knuth's two-sum): near a pole of Gamma(z + m) the rounding of s
    # decides the value (poch(0.3, -1.3): s rounds to the pole -1, e = -5.6e-17, SciPy 6e15)
    zr = fnp.subtract(s, m)
    e = fnp.add(fnp.subtract(z, zr), fnp.subtract(m, fnp.subtract(s, zr)))
    pole_z = _all(z <= 0.0, z == fnp.floor(z))
    pole_s = _all(s <= 0.0, s == fnp.floor(s), e == 0.0)
    # both poles (m an integer): (-1)^m Gamma(1 - z) / Gamma(1 - z - m), that is
    # (-1)^m poch(1 - z - m, m), both arguments at least 1 (exact: integers), taken below
    # with the others (its own log-gamma values cost a fifth of jit(vmap(hessian(poch))))
    both = _all(pole_z, pole_s)
    edge = _any(pole_z, pole_s)
    any_both = _may_hold(both)
    if any_both:
        z = _where(both, fnp.subtract(fnp.subtract(1.0, z), m), z)
        s, e = fnp.add(z, m), _where(both, 0.0, e)
        edge = fnp.logical_xor(pole_z, pole_s)
    zc, sc, mc = fnp.stop_gradient(z), fnp.stop_gradient(s), fnp.stop_gradient(m)
    # Gamma(z) reflected below z = 1/2, Gamma(z + m) below z + m = 1/2; for a small m both
    # with z, so that E is log poch(1 - z - m, m) (the sines' quotient in F passes any pole
    # between them)
    refl_z = zc < 0.5
    small = _all(fnp.abs(mc) < 0.25, fnp.abs(zc) < _inf, fnp.logical_not(edge))
    refl_s = _where(small, refl_z, sc < 0.5)
    # E = log poch(x, m), x = z, or 1 - z - m where both are reflected: by Stirling's series
    # where x and x + m are 10 or more, or m is small (the recurrence first)
    same = fnp.equal(refl_z, refl_s)
    xc = _where(_all(refl_z, refl_s), fnp.subtract(1.0, sc), zc)
    big = _all(same, xc >= 10.0, fnp.add(xc, mc) >= 10.0, xc < _inf,
               fnp.logical_not(edge), fnp.abs(mc) < _inf)
    stirling = _any(big, small)
    general = fnp.logical_not(_any(edge, stirling))
    live = fnp.logical_not(edge)
    sines = _all(live, _any(refl_z, refl_s))
    at_zero = m == 0.0
    # (the branches some element takes, read at once: one host read, not five)
    any_stirling, any_reflected, any_general, any_sines, any_zero = _maybe_true_each(
        stirling, _all(stirling, refl_z), general, sines, at_zero)
    log_value = factor = None  # (factor None: 1)
    if any_stirling:
        x = z
        if any_reflected:
            x = _where(_all(refl_z, refl_s), fnp.subtract(fnp.subtract(1.0, z), m), z)
        log_value = _log_poch_stirling(x, m, _all(small, xc < 10.0), stirling)
    if any_general:
        log_general = _log_poch_general(z, m, s, general, refl_z, refl_s)
        log_value = log_general if log_value is None else _where(stirling, log_value,
                                                                  log_general)
    if log_value is None:  # (every element an edge: handled below)
        log_value = fnp.zeros_like(s)
    if any_sines:
        factor = _poch_sines(z, m, s, e, _all(live, refl_z), _all(live, refl_s))
    # (where large, by the rule of _exp_product: in reverse mode the overflowing cotangent
    # met the zero partial derivatives of the masked branches, grad(poch, (0, 1))(200.3,
    # 300.7) was nan, nan for inf, inf)
    size = fnp.stop_gradient(log_value)
    if factor is not None:
        size = fnp.add(size, fnp.log(fnp.abs(fnp.stop_gradient(factor))))
    over = _all(size > _EXP_RULE_FROM, live)
    any_over = not _known_none(over)
    if any_over:  # (finite where not taken: an inf there made its zero cotangent nan)
        log_value = _where(over, 0.0, log_value)
    if factor is None:
        out = fnp.exp(log_value)
    else:
        # (exp(E) F as (h F) h, h = exp(E / 2): finite where the value is, F small beside a
        # large E: poch(-170 + 1e-7, 180))
        h = fnp.exp(fnp.multiply(0.5, log_value))
        out = fnp.multiply(fnp.multiply(h, factor), h)
    if any_over:
        out = _where(over, _exp_product("poch", _where(over, z, 10.0), _where(over, m, 1.0),
                                        over), out)
    if any_both:
        out = _where(_all(both, fnp.remainder(mc, 2.0) == 1.0), fnp.negative(out), out)
    out = _where(_all(pole_z, fnp.logical_not(pole_s)), 0.0, out)
    out = _where(_all(pole_s, fnp.logical_not(pole_z)), _inf, out)
    # infinities: z = inf gives inf (m > 0) or 0 (m < 0); m = inf with finite z > 0, inf
    out = _where(z == _inf, _where(m > 0.0, _inf, fnp.zeros_like(out)), out)
    out = _where(_all(m == _inf, z > 0.0), _inf, out)
    out = _where(_any(z == -_inf, m == -_inf), math.nan, out)
    # m = 0: 1, with the slopes of the formula where it is finite (d/dm poch(z, 0) is
    # digamma(z): it was 0)
    if any_zero:
        slopes = _all(at_zero, fnp.isfinite(fnp.stop_gradient(out)))
        one = _where(slopes, fnp.add(1.0, fnp.subtract(out, fnp.stop_gradient(out))), 1.0)
        out = _where(at_zero, one, out)
    return _where(_any(z != z, m != m), math.nan, out)


_POCH_SHIFT = 10  # poch's small-m recurrence: arguments in [1/4, 10) moved above 10


def _log_poch_stirling(x, m, shift, stirling):
    """log poch(x, m) where ``stirling`` (x, x + m at least 1/4) by Stirling's series, for
    x < 10 where ``shift`` (|m| < 1/4) after the recurrence, log poch(x, m) =
    log poch(x + 10, m) - sum_i log1p(m / (x + i)), each term of m's relative precision."""
    xs = _where(shift, fnp.add(x, float(_POCH_SHIFT)), _where(stirling, x, 10.0))
    out = _log_poch_positive(xs, _where(stirling, m, 1.0))
    if _may_hold(shift):
        xh, mh = _where(shift, x, 1.0), _where(shift, m, 0.0)
        for i in range(_POCH_SHIFT):
            out = fnp.subtract(out, fnp.log1p(fnp.divide(mh, fnp.add(xh, float(i)))))
    return out


def _log_poch_general(z, m, s, general, refl_z, refl_s):
    """E of :func:`poch` where ``general``: log Gamma(z + m) - log Gamma(z), each gamma
    function of an argument below 1/2 reflected (its sine in :func:`_poch_sines`):
    +-log Gamma of 1 - z or z, and of 1 - z - m or z + m, all at least 1/2."""
    zg, s_g = _where(general, z, 1.0), _where(general, s, 1.0)
    lg_s = _sp.lgamma(_where(refl_s, fnp.subtract(1.0, s_g), s_g))
    lg_z = _sp.lgamma(_where(refl_z, fnp.subtract(1.0, zg), zg))
    return fnp.add(_where(refl_s, fnp.negative(lg_s), lg_s),
                   _where(refl_z, lg_z, fnp.negative(lg_z)))


def _sin_cos_pi_near(t, err):
    """``(sin(pi t'), cos(pi t'))`` for ``t' = t + err`` (``err`` small, no derivative),
    ``|t| <= 1/2``, each exact at 0 and at +-1/2 with its derivatives: beyond |t| = 1/4 from
    ``q = (1/2 - |t|) - sign(t) err`` (1/2 - |t| exact; of err's precision beside the
    half-integers: d2/dz2 poch(-9.5, 1e-12) was 4e-13 off)."""
    sign = fnp.sign(fnp.stop_gradient(t))
    q = fnp.subtract(fnp.subtract(0.5, fnp.abs(t)), fnp.multiply(sign, err))
    t = fnp.add(t, err)
    near_half = q < 0.25
    sin_t = _where(near_half, fnp.multiply(sign, fnp.cos(fnp.multiply(math.pi, q))),
                   fnp.sin(fnp.multiply(math.pi, t)))
    cos_t = _where(near_half, fnp.sin(fnp.multiply(math.pi, q)),
                   fnp.cos(fnp.multiply(math.pi, t)))
    return sin_t, cos_t


def _parity(n):
    """(-1)^n for the integers n (no derivative)."""
    return 1.0 - 2.0 * fnp.astype(fnp.remainder(n, 2.0) == 1.0, _dtype(n))


def _poch_sines(z, m, s, e, refl_z, refl_s):
    """F of :func:`poch`: ``sin(pi z) / pi`` where only ``refl_z``, ``pi / sin(pi (z + m))``
    where only ``refl_s``, their quotient where both, 1 elsewhere. z reduced exactly, z + m
    as s + e (the two-sum: its distance to a pole). The quotient's derivatives: of the
    product ``sin(pi z) (1 / sin(pi s))`` where z is nearer its pole than half s's distance
    (the other form's m-slope cancelled there), else of ``cos(pi m) - sin(pi m) cot(pi s)``
    (exact in s's direction: its z-slope ``pi sin(pi m) / sin(pi s)^2``, 0 for an integer m,
    where the product's two terms of size 1/sin cancelled: d2/dz2 poch(-12 + 1e-14, 2) was
    1e14 off, d/dz 4e-2; the value's log-form slopes, ``E'' + E'^2``, cancelled beside every
    pole: d2/dz2 poch(-3 + 1e-14, 5.7) 2e-2)."""
    traced = _any_tracer(z, m)  # (plain values need no slopes: the sines alone)
    zh = _where(refl_z, z, 0.25)
    nz = fnp.round(fnp.stop_gradient(zh))
    tz = fnp.subtract(zh, nz)
    # (sin(pi z) plainly: its slope's error at the half-integers, pi cos(fl(pi / 2)), meets
    # only far larger terms: the product's slopes are taken below |z - nz| = 1/4)
    sin_z = fnp.multiply(fnp.sin(fnp.multiply(math.pi, tz)), _parity(nz))
    sh = _where(refl_s, s, 0.25)
    ns = fnp.round(fnp.stop_gradient(sh))
    ts = fnp.subtract(sh, ns)
    es = fnp.stop_gradient(_where(refl_s, e, 0.0))
    if traced:
        sin_ts, cos_ts = _sin_cos_pi_near(ts, err=es)
    else:
        sin_ts = fnp.sin(fnp.multiply(math.pi, fnp.add(ts, es)))
    sin_s = fnp.multiply(sin_ts, _parity(ns))
    scale = _where(refl_z, _where(refl_s, 1.0, 1.0 / math.pi), _where(refl_s, math.pi, 1.0))
    out = fnp.multiply(fnp.divide(_where(refl_z, sin_z, 1.0), _where(refl_s, sin_s, 1.0)),
                       scale)
    twice = _all(refl_z, refl_s)
    if traced and _may_hold(twice):
        slopes_at = _all(twice, fnp.abs(tz) >= fnp.multiply(0.5, fnp.abs(fnp.add(ts, es))))
        if _may_hold(slopes_at):
            mh = _where(slopes_at, m, 0.0)
            nm = fnp.round(fnp.stop_gradient(mh))
            tm = fnp.multiply(math.pi, fnp.subtract(mh, nm))
            cot_s = fnp.divide(cos_ts, _where(slopes_at, sin_ts, 1.0))
            slopes = fnp.multiply(fnp.subtract(fnp.cos(tm), fnp.multiply(fnp.sin(tm), cot_s)),
                                  _parity(nm))
            out = _where(slopes_at, fnp.add(fnp.stop_gradient(out), fnp.subtract(
                slopes, fnp.stop_gradient(slopes))), out)
    return out


def factorial(n, exact=False):
    """``n!`` as ``gamma(n + 1)`` for ``n >= 0`` (also for non-integer ``n``, as SciPy's
    ``exact=False``), 0 for ``n < 0``, nan for nan, ``inf`` beyond 170.6 (overflow); the
    result is float64.

    ``exact=True`` (Python's exact integers) is not supported: ValueError. For the integers
    up to 170 the value is the product ``1 * 2 * ... * n`` (a few ulps); for other ``n``
    ``exp(gammaln(n + 1))``, whose relative error grows like ``gammaln(n + 1) * eps``. Derivative:
    ``gamma(n + 1) digamma(n + 1)`` (the gamma function's, also at integers)."""
    if exact:
        raise ValueError("factorial: exact=True is not supported (it computes Python "
                         "integers); use exact=False, the floating gamma(n + 1)")
    n = fnp.astype(_real(n, "factorial"), _dt.float64)
    pos = n >= 0.0
    g = fnp.exp(_sp.lgamma(_where(pos, n, 0.0) + 1.0))
    # the integers up to 170: the product 1 * 2 * ... * n (a few ulps, where exp(gammaln)
    # loses gammaln(n + 1) ulps), with the derivative of gamma(n + 1)
    whole = _all(pos, n <= 170.0, n == fnp.floor(n))
    nw = fnp.stop_gradient(_where(whole, n, 0.0))
    j = _st.iota(nw, 170, _dt.float64) + 2.0  # 2, 3, ..., 171
    terms = fnp.where(fnp.less_equal(j, fnp.expand_dims(nw, axis=-1)), j, 1.0)
    exact = fnp.prod(terms, axis=-1)
    out = _where(whole, fnp.add(exact, fnp.subtract(g, fnp.stop_gradient(g))), g)
    return _where(n != n, n, _where(pos, out, 0.0))


def comb(N, k, *, exact=False, repetition=False):
    """The number of combinations of ``N`` things taken ``k`` at a time, as SciPy's
    ``exact=False``: ``binom(N, k) = Gamma(N + 1) / (Gamma(k + 1) Gamma(N - k + 1))`` where
    ``0 <= k <= N``, 0 elsewhere and for nan (real ``N`` and ``k`` allowed); with
    ``repetition``, ``comb(N + k - 1, k)`` (and, as SciPy, the general binomial coefficient
    :func:`binom` ``(N + k - 1, k)`` outside that domain: 0 at a negative integer ``k``, a
    finite value where ``N + k - 1`` is negative and not an integer; 1 for ``k = 0``,
    ``N >= 0``).

    ``exact=True`` is not supported: ValueError. Computed as
    ``exp(log poch(N - m + 1, m) - gammaln(m + 1))`` with ``m = min(k, N - k)``: the relative
    error grows like the size of that logarithm times eps (about 1e-13 for N near 1000).
    Derivatives in ``N`` and ``k``: those of that expression (digamma differences)."""
    if exact:
        raise ValueError("comb: exact=True is not supported (it computes Python integers); "
                         "use exact=False")
    N, k = _real_weak((N, k), "comb")
    if _dtype(N) in _HALF:
        return _in32_half(lambda N, k: comb(N, k, repetition=repetition), (N, k))
    N0 = N
    if repetition:
        N = fnp.subtract(fnp.add(N, k), 1.0)
    inside = _all(fnp.less_equal(k, N), N >= 0.0, k >= 0.0)
    Ns, ks = _where(inside, N, 1.0), _where(inside, k, 0.0)
    m = fnp.minimum(ks, fnp.subtract(Ns, ks))
    z = fnp.add(fnp.subtract(Ns, m), 1.0)
    big = z >= 10.0
    lp = _where(big, _log_poch_positive(_where(big, z, 10.0), _where(big, m, 0.0)),
                fnp.subtract(_sp.lgamma(fnp.add(Ns, 1.0)), _sp.lgamma(_where(big, 1.0, z))))
    out = fnp.exp(fnp.subtract(lp, _sp.lgamma(fnp.add(m, 1.0))))
    out = _where(_all(inside, N == _inf), _where(k == 0.0, 1.0, fnp.full_like(out, _inf)), out)
    out = _where(inside, out, 0.0)  # (0 for nan too, as SciPy)
    if repetition:
        # outside 0 <= k <= N + k - 1, SciPy's general binomial binom(N + k - 1, k) (1 at
        # k = 0 for N >= 0); not poch(N, k) / Gamma(k + 1), which is nan where both
        # overflow (N = -0.5, k = 1000.5) and at the poles of Gamma (k = -2: binom's 0)
        general = binom(_where(inside, 1.0, N), _where(inside, 0.0, k))
        out = _where(inside, out, general)
        out = _where(_all(k == 0.0, N0 >= 0.0), 1.0, out)
    return out


_EXPREL_TERMS = 18


def _boxcox_of_log(L, lmbda):
    """``(exp(lmbda L) - 1) / lmbda`` (``L`` at ``lmbda = 0``): ``L * exprel(lmbda L)`` by
    the series of ``exprel(z) = expm1(z)/z`` for ``|z| < 1/2`` (accurate, with accurate
    derivatives, as lmbda -> 0), ``expm1(lmbda L) / lmbda`` beyond."""
    z = fnp.multiply(lmbda, L)
    small = fnp.abs(z) < 0.5
    zs = _where(small, z, 0.0)
    series = 1.0 / math.factorial(_EXPREL_TERMS + 1)
    for j in range(_EXPREL_TERMS, 0, -1):
        series = series * zs + 1.0 / math.factorial(j)
    near = fnp.multiply(_where(small, L, 0.0), series)
    far = fnp.divide(fnp.expm1(_where(small, 0.0, z)), _where(small, 1.0, lmbda))
    out = _where(small, near, far)
    # lmbda = 0 with L = +-inf (x = 0 or inf): L itself (z is nan there)
    return _where(_all(lmbda == 0.0, fnp.isinf(L)), L, out)


def boxcox(x, lmbda, /):
    """The Box-Cox transformation ``(x**lmbda - 1) / lmbda``, and ``log(x)`` at
    ``lmbda = 0``: as ``expm1(lmbda log x) / lmbda``, by its series where ``|lmbda log x|``
    is below 1/2 (accurate for small ``lmbda``, derivatives too).

    As SciPy: nan for ``x < 0``; at ``x = 0``, ``-1/lmbda`` for ``lmbda > 0`` and ``-inf``
    otherwise. Derivatives: ``x**(lmbda - 1)`` in ``x``; in ``lmbda``,
    ``(lmbda L exp(lmbda L) - expm1(lmbda L)) / lmbda**2`` (``L = log x``; ``L**2 / 2`` at
    ``lmbda = 0``)."""
    x, lmbda = _real_weak((x, lmbda), "boxcox")
    if _dtype(x) in _HALF:
        return _in32_half(boxcox, (x, lmbda))
    return _boxcox_of_log(fnp.log(x), lmbda)


def boxcox1p(x, lmbda, /):
    """The Box-Cox transformation of ``1 + x``, ``((1 + x)**lmbda - 1) / lmbda`` (``log1p(x)``
    at ``lmbda = 0``), accurate for small ``x`` and small ``lmbda``; as :func:`boxcox` with
    ``log1p(x)`` for ``log(x)`` (nan below -1)."""
    x, lmbda = _real_weak((x, lmbda), "boxcox1p")
    if _dtype(x) in _HALF:
        return _in32_half(boxcox1p, (x, lmbda))
    return _boxcox_of_log(fnp.log1p(x), lmbda)


def _entropy_parts(x, y):
    pos = _all(x > 0.0, y > 0.0)
    xs, ys = _where(pos, x, 1.0), _where(pos, y, 1.0)
    zero = _all(x == 0.0, y >= 0.0)
    nan = _any(x != x, y != y)
    return x, y, pos, xs, ys, zero, nan


def _x_log_ratio(x, y, kl):
    """x log(x / y) for x, y > 0 (``kl``: plus y - x, kl_div's), by a rule of its own: slopes
    ``log(x / y) + 1`` in x and ``-x / y`` in y (kl: ``log(x / y)`` and ``(y - x) / y``,
    which keeps the digits where x is near y). Through the forms below the slope in x was
    x (t / x): inf at subnormal x (the JVP of rel_entr(x, 0.4) at 5e-324 was +inf, not
    -742.52; grad was right), and its kl form lost digits to 1 - 1 near x = y."""
    global _x_log_ratio_fns
    if _x_log_ratio_fns is None:
        from ..custom import custom_jvp
        fns = []
        for k in (False, True):
            fn = custom_jvp(functools.partial(_x_log_ratio_value, kl=k))
            fn.defjvp(functools.partial(_x_log_ratio_jvp, kl=k), symbolic_zeros=True)
            fns.append(fn)
        log_ratio = custom_jvp(_log_ratio)
        log_ratio.defjvp(_log_ratio_jvp, symbolic_zeros=True)
        _x_log_ratio_fns = (fns[0], fns[1], log_ratio)
    return _x_log_ratio_fns[kl](x, y)


def _x_log_ratio_value(x, y, kl):
    out = fnp.multiply(x, _log_ratio(x, y))
    return fnp.add(out, fnp.subtract(y, x)) if kl else out


def _x_log_ratio_jvp(primals, tangents, kl):
    x, y = primals
    tx, ty = tangents
    log_q = _x_log_ratio_fns[2](x, y)
    out = fnp.multiply(x, log_q)
    # (each slope times its tangent with a strong zero: log(x / y) is -inf at y = inf; a
    # symbolic zero tangent's term skipped)
    t = None
    if type(tx) is not _SymbolicZero:
        t = _mul_sz(log_q if kl else fnp.add(log_q, 1.0), tx)
    if type(ty) is not _SymbolicZero:
        if kl:
            # (each form of the points it serves, 1 elsewhere: no unselected inf or nan
            # slope; (y - x) / y where x is near y, its digits kept, 1 - x / y elsewhere,
            # whose own derivative x / y**2 comes without 1 - (y - x) / y's cancellation)
            near = _near_one(x, y)
            xn, yn = _where(near, x, 1.0), _where(near, y, 1.0)
            slope_y = _where(near, fnp.divide(fnp.subtract(yn, xn), yn), fnp.subtract(
                1.0, fnp.divide(_where(near, 1.0, x), _where(near, 1.0, y))))
        else:
            slope_y = fnp.negative(fnp.divide(x, y))
        ty = _mul_sz(slope_y, ty)
        t = ty if t is None else fnp.add(t, ty)
    return fnp.add(out, fnp.subtract(y, x)) if kl else out, t


def _near_one(x, y):
    return _all(fnp.less(x, fnp.multiply(y, 2.0)), fnp.less(y, fnp.multiply(x, 2.0)))


def _log_ratio_jvp(primals, tangents):
    # t / x - t / y: through log(x / y), (t / y) / q overflowed at subnormal y where 1 / x is
    # finite; where x is near y as (tx - q ty) / x, which is 0, not inf - inf, at x = y
    # subnormal (the second derivative of rel_entr(x, x), 0)
    x, y = primals
    tx, ty = tangents
    out = _x_log_ratio_fns[2](x, y)
    if type(ty) is _SymbolicZero:
        return out, fnp.divide(tx, x)
    if type(tx) is _SymbolicZero:
        return out, fnp.negative(fnp.divide(ty, y))
    near = _near_one(x, y)
    xn, yn = _where(near, x, 1.0), _where(near, y, 1.0)
    xf, yf = _where(near, 1.0, x), _where(near, 1.0, y)
    t = _where(near, fnp.divide(fnp.subtract(tx, _mul_sz(fnp.divide(xn, yn), ty)), xn),
               fnp.subtract(fnp.divide(tx, xf), fnp.divide(ty, yf)))
    return out, t


_x_log_ratio_fns = None


def _log_ratio(x, y):
    """log(x / y) for x, y > 0; as log1p((x - y) / y) where x / y is within a factor 2 of
    1 (x - y exact there), so that the rounding of x / y does not cost the small logarithm
    its digits; as log x - log y where x / y leaves the normal range (rel_entr(1e-300,
    1e300) was -inf, its value -1.38e-297; (1e300, 1e-300) inf, its value 1.38e303). Each
    form sees only the points it serves (others: 1), so that no unselected form's infinite
    slope (log1p at -1, x / y's past overflow) meets a zero cotangent as nan."""
    near = _near_one(x, y)
    q = fnp.divide(x, y)
    fi = fnp.finfo(_dtype(q))
    wide = _any(fnp.less(q, fi.tiny), fnp.greater(q, fi.max))
    if _may_hold(wide):
        # (log x - log y there, log(x / y) elsewhere: each form 0 exactly where the other
        # serves; not x / x there, nan at x = inf)
        far = fnp.subtract(fnp.log(_where(wide, x, 1.0)), fnp.log(_where(wide, y, 1.0)))
        ratio = fnp.add(far, fnp.log(fnp.divide(_where(wide, 1.0, x), _where(wide, 1.0, y))))
    else:  # (known: none there)
        ratio = fnp.log(q)
    xn, yn = _where(near, x, 1.0), _where(near, y, 1.0)
    close = fnp.log1p(fnp.divide(fnp.subtract(xn, yn), yn))
    return _where(near, close, ratio)


def rel_entr(x, y, /):
    """The relative entropy term ``x log(x / y)`` for ``x, y > 0``; 0 where ``x == 0`` and
    ``y >= 0``; ``inf`` elsewhere (nan for nan), as SciPy.

    Derivatives: ``log(x / y) + 1`` in ``x`` and ``-x / y`` in ``y`` for ``x, y > 0``;
    taken as 0 where ``x == 0`` (where the one in ``x`` is ``-inf``) and outside the
    domain."""
    x, y = _real_weak((x, y), "rel_entr")
    if _dtype(x) in _HALF:
        return _in32_half(rel_entr, (x, y))
    if type(x) in _NUMPY_TYPES and type(y) in _NUMPY_TYPES:
        return _entropy_numpy(_plain_numpy(x), _plain_numpy(y), False)
    with _np.errstate(all="ignore"):   # (x / y past overflow)
        x, y, pos, xs, ys, zero, nan = _entropy_parts(x, y)
        inner = _x_log_ratio(xs, ys, False)
        out = _where(pos, inner, _where(zero, fnp.zeros_like(inner), _inf))
        return _where(nan, math.nan, out)


def kl_div(x, y, /):
    """The Kullback-Leibler divergence term ``x log(x / y) - x + y`` for ``x, y > 0``;
    ``y`` where ``x == 0`` and ``y >= 0``; ``inf`` elsewhere (nan for nan), as SciPy.

    Derivatives: ``log(x / y)`` in ``x`` and ``1 - x / y`` in ``y`` for ``x, y > 0``; at
    ``x == 0``: 1 in ``y`` and 0 in ``x`` (where the true one is ``-inf``)."""
    x, y = _real_weak((x, y), "kl_div")
    if _dtype(x) in _HALF:
        return _in32_half(kl_div, (x, y))
    if type(x) in _NUMPY_TYPES and type(y) in _NUMPY_TYPES:
        return _entropy_numpy(_plain_numpy(x), _plain_numpy(y), True)
    with _np.errstate(all="ignore"):
        x, y, pos, xs, ys, zero, nan = _entropy_parts(x, y)
        inner = _x_log_ratio(xs, ys, True)
        out = _where(pos, inner, _where(zero, fnp.add(y, 0.0), _inf))
        return _where(nan, math.nan, out)


def _entropy_numpy(x, y, kl):
    """rel_entr's (``kl``: kl_div's) value on plain NumPy operands (broadcast, one floating
    dtype): the traced form's operations (_x_log_ratio's forms) on each element, the same
    values; one logarithm over all (of 1 outside x, y > 0, as the traced form's: NumPy's
    log takes 5-8 times as long where many elements are 0, negative, inf or nan), the other
    forms on the elements they serve."""
    if not x.ndim:
        return _entropy_numpy(x.reshape(1), y.reshape(1), kl).reshape(())
    with _np.errstate(all="ignore"):
        rest = x > 0.0
        rest &= y > 0.0
        q = x / y
        # (x < 2 y and y < 2 x: 1/2 <= q <= 2, and the bounds exact below; only where
        # x, y > 0: for two negatives the one excludes the other)
        near = q >= 0.5
        near &= q <= 2.0
        if rest.all():
            rest = None
        else:
            near &= rest   # (two negatives: not gathered only to be left out below)
            _np.logical_not(rest, out=rest)   # (a zero, below zero, nan)
            q = _numpy_where(rest, 1.0, q)
        out = _np.log(q)
        fi = _np.finfo(q.dtype)
        if not (q.min(initial=1.0) >= fi.tiny and q.max(initial=1.0) <= fi.max):
            # (a nan, inf / inf: the masks, which give it neither form)
            wide = q < fi.tiny
            wide |= q > fi.max
            at = wide.nonzero()   # (log x - log y, as the traced form's, + log(1 / 1))
            out[at] = (_np.log(x[at]) - _np.log(y[at])) + 0.0
        at = near.nonzero()
        xn, yn = x[at], y[at]
        inside = xn < yn * 2.0
        inside &= yn < xn * 2.0
        if not inside.all():
            at = tuple(i[inside] for i in at)
            xn, yn = xn[inside], yn[inside]
        out[at] = _np.log1p((xn - yn) / yn)
        _np.multiply(x, out, out=out)
        if kl:
            out += _np.subtract(y, x, out=q)
        if rest is not None:
            # (session 54: by masks over the whole arrays, the few zeros and nans by their
            # indices; gathering and scattering the rest by index took most of the time where
            # many are negative: kl_div of two standard normal samples 1.6x SciPy's)
            _np.copyto(out, _inf, where=rest)
            zero = x == 0.0
            if zero.any():
                zero &= y >= 0.0
                at = zero.nonzero()
                out[at] = y[at] + 0.0 if kl else 0.0
            nan = _np.add(x, y, out=q)   # (nan where x or y is, and at inf - inf)
            at = _np.isnan(nan, out=zero).nonzero()
            if len(at[0]):
                out[at] = _np.where(_np.isnan(x[at]) | _np.isnan(y[at]), math.nan, out[at])
    return out


# -- special14b: spence, sici, fresnel, owens_t, bernoulli ----------------------------------------


def spence(z, /):
    """Spence's function as SciPy defines it, ``spence(z) = integral_1^z log(t) / (1 - t) dt``
    (the dilogarithm ``Li2(1 - z)``), for real ``z >= 0``.

    As SciPy: ``pi**2 / 6`` at 0, 0 at 1, nan for ``z < 0`` and at ``inf`` (the limit is
    ``-inf``), nan for nan; complex ``z`` (SciPy's complex loop) is not supported. Small
    integer types give float32, as SciPy's loops; float32 is computed in float64 and
    rounded. Derivative: ``log(z) / (1 - z)`` (-1 at ``z = 1``; ``-inf`` at 0). Values from
    SciPy on NumPy, else the series of ``Li2`` in ``-log(1 - y)`` (with the reflection and
    inversion formulas) of :mod:`functrans.backends.special_generic` (about 2e-15
    relative)."""
    z = _real(z, "spence", small_to_float32=True)
    ok = _all(z >= 0.0, z < _inf)
    out = _in64(_sp.spence, _where(ok, z, 1.0))
    return _where(ok, out, math.nan)


def _finite_part(x, fn):
    """``fn(x)`` where ``x`` is finite (1.0 elsewhere: the caller gives the infinities their
    values), computed in float64 and rounded to float32 for float32 ``x``."""
    return _in64(fn, _where(fnp.isfinite(x), x, 1.0))


def sici(x, /):
    """The sine and cosine integrals ``(Si(x), Ci(x))``: ``Si(x) = integral_0^x sin(t)/t dt``
    and ``Ci(x) = gamma + log(x) + integral_0^x (cos(t) - 1)/t dt``, for real ``x``.

    As SciPy's real function: ``Si`` is odd with ``Si(+-inf) = +-pi/2``; for ``x < 0``, ``Ci``
    is that of ``|x|`` (the real part of the complex value); ``Ci(0) = -inf``,
    ``Ci(inf) = 0``, ``Ci(-inf)`` is nan. Small integer types give float32; float32 is
    computed in float64 and rounded. Derivatives: ``sin(x)/x`` (1 at 0) and ``cos(x)/x``.
    Values from SciPy on NumPy, else the power series (``|x| <= 3``) and the continued
    fraction of ``E_1(ix)`` of :mod:`functrans.backends.special_generic` (about 1e-15
    relative, absolute near the zeros of ``Ci``)."""
    x = _real(x, "sici", small_to_float32=True)
    si = _finite_part(x, _sp.si)
    ci = _finite_part(x, _sp.ci)
    si = _where(x == _inf, math.pi / 2, _where(x == -_inf, -math.pi / 2, si))
    ci = _where(x == _inf, 0.0, _where(x == -_inf, math.nan, ci))
    return _where(x != x, x, si), _where(x != x, x, ci)


_FRESNEL_HUGE = 1e17  # beyond, S and C are 1/2 to the last bit


def fresnel(z, /):
    """The Fresnel integrals ``(S(z), C(z))``, ``S = integral_0^z sin(pi t**2 / 2) dt`` and
    ``C = integral_0^z cos(pi t**2 / 2) dt`` (SciPy's normalization and order), for real
    ``z``.

    Odd; ``+-1/2`` at ``+-inf``. Small integer types give float32; float32 is computed in
    float64 and rounded. Derivatives: ``sin(pi z**2 / 2)`` and ``cos(pi z**2 / 2)`` (the
    angle reduced with the rounding error of ``z**2`` kept, so accurate for large ``z``).
    Complex ``z`` is not supported. Differences from SciPy: SciPy's values lose accuracy
    with ``z**2`` (about 1e-12 relative near ``z = 1e4``, 1e-8 near 1e8: it rounds
    ``pi z**2 / 2`` before the sine); here the angle is reduced exactly, and beyond ``1e17``
    the values are ``+-1/2`` (SciPy: nan above about ``1.3e154``, where ``z**2``
    overflows). Values from SciPy on NumPy (except there), else the power series
    (``|z| <= 1.6``) and the continued fraction of ``erfc`` of
    :mod:`functrans.backends.special_generic` (about 1e-15 relative)."""
    z = _real(z, "fresnel", small_to_float32=True)
    huge = fnp.abs(z) > _FRESNEL_HUGE
    zs = _where(huge, 1.0, z)
    s, c = _in64(_sp.fresnel_s, zs), _in64(_sp.fresnel_c, zs)
    half = fnp.multiply(fnp.sign(fnp.stop_gradient(z)), 0.5)
    return _where(huge, half, s), _where(huge, half, c)


_INV_SQRT2 = math.sqrt(0.5)


def owens_t(h, a, /):
    """Owen's T function ``T(h, a) = 1/(2 pi) integral_0^a exp(-h**2 (1 + x**2) / 2) /
    (1 + x**2) dx`` (even in ``h``, odd in ``a``).

    As SciPy: ``T(h, +-inf) = +-Q(|h|) / 2`` (``Q`` the normal upper tail), 0 at
    ``h = +-inf``, ``arctan(a) / (2 pi)`` at ``h = 0``, nan for nan. float32 only where both
    operands are float32 (Python numbers take the other operand's dtype), computed in float64
    and rounded. Derivatives: ``-exp(-h**2/2) erf(h a / sqrt(2)) / (2 sqrt(2 pi))`` in ``h``
    and ``exp(-h**2 (1 + a**2) / 2) / (2 pi (1 + a**2))`` in ``a``. Values from SciPy on
    NumPy, else 24-point Gauss-Legendre quadrature (for ``|a| <= 1``, over the span where the
    integrand is not negligible) and the identity ``T(h, a) = (Phi(h) Q(a h) + Phi(a h)
    Q(h)) / 2 - T(a h, 1/a)`` above, in :mod:`functrans.backends.special_generic` (about
    1e-14 relative; the error of ``Q(h)`` for large ``h``, about ``h**2 eps``, as SciPy's)."""
    h, a = _real_weak((h, a), "owens_t")
    if _dtype(h) in _LOW:
        return _in64_many(owens_t, (h, a))
    ok = _all(fnp.isfinite(h), fnp.isfinite(a))
    out = _sp.owens_t(_where(ok, h, 0.0), _where(ok, a, 0.0))
    # a = +-inf: +-Q(|h|)/2 (differentiable in h); h = +-inf: 0
    tail = fnp.multiply(0.25 * _sp.erfc(fnp.multiply(fnp.abs(h), _INV_SQRT2)),
                        fnp.sign(fnp.stop_gradient(a)))
    out = _where(_all(fnp.isinf(a), fnp.isfinite(h)), tail, out)
    out = _where(fnp.isinf(h), 0.0, out)
    return _where(_any(h != h, a != a), math.nan, out)


_BERNOULLI_FLOATS = []  # B_0 .. B_259 as floats (B_260 on overflow), computed on first use
_BERNOULLI_EXACT = 260


def _bernoulli_floats():
    if not _BERNOULLI_FLOATS:
        from ..backends.special_generic import _bernoulli_numbers
        _BERNOULLI_FLOATS.extend(float(b) for b in _bernoulli_numbers(_BERNOULLI_EXACT - 1))
    return _BERNOULLI_FLOATS


def bernoulli(n):
    """The Bernoulli numbers ``B_0 .. B_n`` as a float64 array of length ``n + 1`` (SciPy's
    convention ``B_1 = -1/2``), on the default backend.

    ``n`` is a non-negative Python integer (an integral float is accepted; a non-integral
    one is a ValueError, where SciPy truncates it); a negative ``n``: ValueError, as SciPy.
    The values are the exact fractions rounded once to float64 (``+-inf`` from ``B_260`` on,
    where they overflow, and 0 at the odd indices above 1, as SciPy). No derivative: the
    result depends on ``n`` only."""
    if type(n) is float and n.is_integer():
        n = int(n)
    try:
        order = operator.index(n)
    except TypeError:
        raise TypeError(f"bernoulli: n must be a non-negative Python integer; got "
                        f"{type(n).__name__}") from None
    if order < 0:
        raise ValueError("bernoulli: n must be a non-negative integer")
    values = _bernoulli_floats()[:order + 1]
    if len(values) == order + 1:
        return fnp.asarray(values, dtype=_dt.float64)
    # beyond: B_2k = (-1)^(k+1) |B_2k| overflows; odd indices are 0. (In NumPy, allocated
    # first: bernoulli(1e300) built a Python list of 1e300 elements until memory ran out,
    # session 54; now NumPy's error at once, as SciPy's OverflowError)
    try:
        out = _np.empty(order + 1)
    except ValueError as e:
        digits = len(str(order))
        raise ValueError(f"bernoulli: n (about 10**{digits - 1}) is too large for an array "
                         f"of n + 1 values ({e})") from None
    out[:len(values)] = values
    m = _np.arange(len(values), order + 1)
    out[len(values):] = _np.where(m % 2 == 1, 0.0, _np.where(m % 4 == 2, _inf, -_inf))
    return fnp.asarray(out, dtype=_dt.float64)


# a table made from a number: under a transform, a constant, as functrans.numpy's creation
# functions make (its namespace functrans.numpy's beside the values transformed)
bernoulli = fnp._as_constants(bernoulli)


# -- special15: wofz, hyp1f1, hyp2f1, bessel_jn, jv, sph_harm_y ----------------------------------

_SQRT_PI = math.sqrt(math.pi)


def wofz(z, /):
    """The Faddeeva function ``w(z) = exp(-z**2) erfc(-i z)``, elementwise, complex result.

    Real input (any real or integer dtype, Python numbers) gives complex128, as SciPy;
    complex64 gives complex64 (computed in complex128 and rounded), complex128 complex128.
    The values at the non-finite points are SciPy's: 0 where ``Im z = +inf`` or ``Re z`` is
    infinite (``Im z`` not ``-inf``), ``inf`` at ``-i inf``, nan elsewhere on the lower
    infinite edge and for nan; in the lower half plane ``exp(-z**2)`` overflows to infinite
    values where ``Im(z)**2 - Re(z)**2`` is above about 709, as SciPy's (nan + nan j on
    torch, whose complex ``exp`` gives that on overflow).

    Holomorphic, with derivative ``w'(z) = 2i/sqrt(pi) - 2 z w(z)`` (any order): ``jvp``
    takes complex tangents; ``vjp`` gives the cotangent times ``w'(z)`` (no conjugation, as
    for ``exp`` and JAX's convention), and ``grad`` of a real function of ``w`` the
    corresponding conjugate-free gradient. A real input's derivative is that of its
    conversion to complex.

    Values from SciPy on NumPy; elsewhere (torch, array-api-strict, CuPy) Weideman's
    rational approximation (N = 40) in the upper half plane with the reflection
    ``w(z) = 2 exp(-z**2) - w(-z)`` below, and ``exp(-x**2) + 2i/sqrt(pi) dawsn(x)`` on
    the real axis, in :mod:`functrans.backends.special_generic`: about 3e-14 relative to
    ``|w|`` (off the real axis, a part much smaller than ``|w|``, such as the real part
    ``~exp(-x**2)`` just above the axis at large ``x``, has that error relative to ``|w|``,
    not to itself)."""
    z = _array_like(z)
    if type(z) in _SCALARS:
        z = _to_array(z, _dt.complex128)
    d = _dtype(z)
    if d.kind != "c":
        z = _st.convert_element_type(z, _dt.complex128)
    elif d is _dt.complex64:
        return fnp.astype(wofz(fnp.astype(z, _dt.complex128)), _dt.complex64)
    x, y = fnp.real(z), fnp.imag(z)
    x, y = fnp.stop_gradient(x), fnp.stop_gradient(y)
    finite = _all(fnp.isfinite(x), fnp.isfinite(y))
    out = _sp.wofz(_where(finite, z, fnp.zeros_like(z)))
    zero = _any(y == _inf, _all(fnp.isinf(x), y != -_inf))
    nan = fnp.full_like(out, complex(math.nan, math.nan))
    lower_inf = _where(x == 0.0, fnp.full_like(out, _inf), nan)
    edge = _where(zero, fnp.zeros_like(out), _where(y == -_inf, lower_inf, nan))
    return _where(finite, out, edge)


def _is_pole(v):
    return _all(v <= 0.0, v == fnp.floor(v))


_HYP1F1_FAR = 1e8


def hyp1f1(a, b, x, /):
    """Kummer's confluent hypergeometric function ``1F1(a; b; x) = sum_k (a)_k / (b)_k
    x**k / k!`` for real ``a``, ``b``, ``x``.

    As SciPy: ``inf`` where ``b`` is a non-positive integer, except where ``a`` is a
    negative integer with ``a >= b`` (the series stops first: a polynomial); 1 where
    ``b`` is infinite (and ``x`` finite or ``a = 0``); nan for an infinite ``a`` and for
    nan. At ``x = +-inf`` its limit: 1 for ``a = 0``; for a negative integer ``a = -n`` the
    polynomial's, ``+-inf`` with the sign of ``(-1)**n x**n / (b)_n`` (``hyp1f1(-1, 0.3,
    inf)`` is ``-inf``, ``hyp1f1(-1, 0.3, -inf)`` ``+inf``: SciPy gives ``inf`` for both,
    mpmath 1 for the first); else at ``+inf`` ``+-inf`` with the sign of ``Gamma(a)
    Gamma(b)`` (``e**x x**(a - b)`` dominates), at ``-inf`` 0 for ``a > 0`` or ``b - a`` a
    non-positive integer, else ``+-inf`` with the sign of ``Gamma(b) Gamma(b - a)``
    (``|x|**-a`` dominates); from ``x = 1e8`` with ``|a|, |b| <= sqrt(x) / 10`` (``a`` not
    a non-positive integer) that ``+-inf`` at once (SciPy's takes time growing as
    ``x**1.6``: hours at 1e15), its derivatives too. float32 only where every operand is float32 (computed in
    float64 and rounded).

    Derivative in ``x``: ``a/b hyp1f1(a + 1, b + 1, x)`` (any order; at ``x = +-inf`` the
    limit of that, as the value). In ``a`` and ``b`` at ``x = +-inf``: 0 at ``-inf`` for ``a
    > 0`` (their limits), nan elsewhere (before: 0, the derivative of a constant). In ``a`` and ``b``
    (any order, mixed with ``x``): the power series of the terms' derivatives, at ``x`` or
    through Kummer's transformation at ``-x``, whichever cancels less (about 1e-13 relative
    against mpmath, to the third order); where both cancel too much for
    about 12 digits (a large ``|x|`` with parameters that make the terms alternate, as
    ``a, b < 0``), NotImplementedError naming the point, rather than a value of unknown
    accuracy (JAX's truncated series gives one).

    Values from SciPy on NumPy and cupyx on CuPy. Elsewhere (torch, array-api-strict) the
    generic version of :mod:`functrans.backends.special_generic`: the power series at ``x``
    or at ``-x`` through Kummer's transformation ``e**x 1F1(b - a; b; -x)`` (400 terms,
    whichever cancels less), for ``|x| >= 30`` the asymptotic expansion, where these
    cancel the two series again in double-double arithmetic (about 32 digits), and for a
    large negative ``a`` (``b - a`` where ``x < 0``) the recurrence in ``a`` from a start
    near 0, in double-double, and for a negative ``b`` the recurrence in ``b`` from a start
    in (0, 1), each kept where its measured error amplification allows; about 1e-13
    relative, also for small values (5e-12 within about 1e-3 of a pole of ``Gamma(a)`` or
    ``Gamma(b - a)`` at large ``|x|``), and nan where none of them is accurate (mostly a
    large negative ``b`` with ``a`` and ``x`` of opposite signs, where the recurrences
    amplify errors too much and the series cancel beyond 1e16). Share of nan among points
    with a finite value (``python -m benchmarks.special_coverage``, 1000 points each,
    session 15 -> 16): ``a, b`` in (-10, 10), ``|x| < 30``: 13.5 % -> 0; ``a`` in
    (-10, 10), ``b`` in (0, 10), ``|x| < 100``: 5.0 % -> 0; ``a, b, x`` in (-50, 50):
    28.9 % -> 1.5 % (and no more results with relative errors up to 0.5, which session 15
    gave for values below 1e-13 there); ``a`` in (-200, 0), ``b`` in (0, 50), ``|x| < 60``:
    60.8 % -> 2.0 %; the finite results within 1e-12 of mpmath's (2e-14 in those
    samples)."""
    a, b, x = _real_weak((a, b, x), "hyp1f1")
    if _dtype(x) in _LOW:
        return _in64_many(hyp1f1, (a, b, x))
    finite = _all(fnp.isfinite(a), fnp.isfinite(b), x == x)   # (x = +-inf: the primitive's)
    poly = _all(_is_pole(a), fnp.greater_equal(a, b), a < 0.0)
    pole = _all(_is_pole(b), fnp.logical_not(poly))
    ok = _all(finite, fnp.logical_not(pole))
    far = _all(x >= _HYP1F1_FAR, x < _inf)   # (x = inf: the primitive's limits)
    if not _known_none(far):
        # (session 55) SciPy's hyp1f1 takes time growing as x^1.6 beyond x = 1e8 (0.05 s at
        # 1e10, 3 s at 1e12, hours at 1e15), where the value is +-inf: with |a|, |b| <=
        # sqrt(x) / 10 (a not 0, -1, -2, ...: a polynomial) the first term of the expansion
        # Gamma(b) / Gamma(a) e^x x^(a - b) (1 + (1 - a)(b - a) / x + ...) dominates, its
        # logarithm above x / 2, and the others are within a few percent of it. There
        # sign(Gamma(a) Gamma(b)) exp(x + (a - b) log x): inf, and so are its derivatives
        # (log x held constant in them: x's two paths gave inf - inf)
        lim = fnp.sqrt(fnp.abs(x)) * 0.1
        far = _all(far, ok, fnp.logical_not(_is_pole(a)), fnp.abs(a) <= lim,
                   fnp.abs(b) <= lim)
        ok = _all(ok, fnp.logical_not(far))
        log_x = fnp.stop_gradient(fnp.log(_where(far, x, 1.0)))
        at_far = fnp.multiply(fnp.stop_gradient(_gamma_sign(a) * _gamma_sign(b)), fnp.exp(
            _where(far, x + (a - b) * log_x, 0.0)))
    out = _sp.hyp1f1(_where(ok, a, 1.0), _where(ok, b, 1.0), _where(ok, x, 0.0))
    if not _known_none(far):
        out = _where(far, at_far, out)
    out = _where(pole, _inf, out)
    out = _where(_all(fnp.isinf(b), fnp.isfinite(a)),
                 _where(_any(fnp.isfinite(x), a == 0.0), 1.0, math.nan), out)
    return _where(_any(fnp.isinf(a), a != a, b != b, x != x), math.nan, out)


# -- special15b: hyp2f1, jv, bessel_jn, sph_harm_y ----------------------------------------------


def hyp2f1(a, b, c, x, /):
    """The Gauss hypergeometric function ``2F1(a, b; c; x) = sum_k (a)_k (b)_k / (c)_k
    x**k / k!`` (and its analytic continuation to ``x < -1``) for real ``a``, ``b``, ``c``,
    ``x``.

    As SciPy for real input: ``inf`` for ``x > 1`` unless ``a`` or ``b`` is a non-positive
    integer (a polynomial, evaluated there); at ``x = 1`` ``Gamma(c) Gamma(c-a-b) /
    (Gamma(c-a) Gamma(c-b))`` for ``c - a - b > 0``, else ``+-inf``; where ``c`` is a
    non-positive integer ``inf``, except at ``x = 0`` (1) and where ``a`` or ``b`` is a
    non-positive integer ``>= c`` (the series ends before the pole: a polynomial; where
    that integer equals ``c`` SciPy's value is ``(1-x)**-b`` in some argument orders, and
    the generic version the polynomial, as mpmath); 1 for ``c = +-inf``; a polynomial's
    limit at ``x = +-inf``, its derivatives' too (``+-inf`` by the sign of its leading term,
    1 for degree 0; SciPy's sign is wrong in places, as ``-inf`` for ``hyp2f1(-2, -3, 3.5,
    -inf)``; JAX's nan there; before session 57 nan); nan for infinite ``a``, ``b``, for
    other infinite ``x`` and for nan. No complex ``x`` (a TypeError). float32 only where
    every operand is float32 (computed in float64).

    Derivative in ``x``: ``a b / c hyp2f1(a + 1, b + 1, c + 1, x)`` (any order). In ``a``,
    ``b``, ``c``: NotImplementedError.

    Values from cupyx on CuPy. Elsewhere (NumPy, torch, array-api-strict) the generic
    version of :mod:`functrans.backends.special_generic` (on NumPy since session 16, nan
    where it has no accurate value: SciPy's is wrong without a sign of it in places,
    relative errors above 1e-10 at 23 % of ``a, b, c`` in (-30, 30), ``x`` in (-3, 1), up
    to 1e13, also at some of the points where the generic version has none; the generic
    version is about 250 times slower than SciPy's on NumPy, 0.5 ms for a scalar): the
    power series, the transformation to ``1 - x`` (Abramowitz-Stegun 15.3.6, and its
    logarithmic limits 15.3.10-11 where ``c - a - b`` is an integer) and Pfaff's transformations for ``x < 0``,
    whichever cancels least, with series whose terms cancel summed again in double-double
    arithmetic (about 32 digits); about 1e-13 relative, also for small values (a few 1e-12
    where the transformations' parts cancel, as SciPy's), and nan where none of them is
    accurate (the two parts of a transformation cancelling: large ``|a|``, ``|b|``, or
    ``x`` far below -1). Share of nan among points with a finite value (``python -m
    benchmarks.special_coverage``, 1000 points each, session 15 -> 16): ``a, b, c`` in
    (-10, 10), ``|x| < 1``: 6.2 % -> 0; the same with ``x = -e**t``, ``t`` in (0, 8):
    3.1 % -> 0.4 %; ``a, b, c`` in (-30, 30), ``x`` in (-3, 1): 15.2 % -> 1.0 % (and no
    more results with relative errors up to 8e-4, which session 15 gave for values below 1
    there); the finite results within 2e-12 of mpmath's. The double-double series are
    slower: up to seconds for large arrays of such points."""
    a, b, c, x = _real_weak((a, b, c, x), "hyp2f1", ("dddd", "ffff"))
    if _dtype(x) in _LOW:
        return _in64_many(hyp2f1, (a, b, c, x))
    finite = _all(fnp.isfinite(a), fnp.isfinite(b), fnp.isfinite(c), fnp.isfinite(x))
    poly = _any(_all(_is_pole(a), fnp.greater_equal(a, c)),
                _all(_is_pole(b), fnp.greater_equal(b, c)))
    anypoly = _any(_is_pole(a), _is_pole(b))
    pole = _all(_is_pole(c), fnp.logical_not(poly), x != 0.0)
    above = _all(x > 1.0, fnp.logical_not(anypoly))
    # (a polynomial at x = +-inf: the primitive's limit, and its derivatives')
    poly_at_inf = _all(anypoly, fnp.isinf(x), fnp.isfinite(a), fnp.isfinite(b),
                       fnp.isfinite(c))
    ok = _all(_any(finite, poly_at_inf), fnp.logical_not(pole), fnp.logical_not(above))
    out = _sp.hyp2f1(_where(ok, a, 1.0), _where(ok, b, 1.0), _where(ok, c, 1.0),
                     _where(ok, x, 0.0))
    out = _where(_any(pole, above), _inf, out)
    out = _where(_all(fnp.isinf(c), fnp.isfinite(a), fnp.isfinite(b), fnp.isfinite(x)),
                 1.0, out)
    return _where(_any(fnp.isinf(a), fnp.isinf(b), a != a, b != b, c != c, x != x,
                       _all(fnp.isinf(x), fnp.logical_not(poly_at_inf),
                            fnp.logical_not(pole))), math.nan, out)


def jn(n, z, /):
    """SciPy's other name for :func:`jv` (of an integer order ``n``, but any real order is
    accepted, as SciPy's)."""
    return jv(n, z)


def jv(v, z, /):
    """The Bessel function of the first kind ``J_v(z)`` of real order ``v``, for real ``z``.

    As SciPy for real input: nan for ``z < 0`` unless ``v`` is an integer (then
    ``J_n(-z) = (-1)**n J_n(z)``); at ``z = 0``: 1 for ``v = 0``, 0 for ``v > 0`` and the
    negative integers, ``+-inf`` for the other negative ``v`` (the sign of
    ``1 / Gamma(v + 1)``); 0 for infinite ``v`` and finite ``z``; nan for infinite ``z``
    and for nan. No complex ``z`` (a TypeError; SciPy takes it). float32 only where both
    operands are float32 (computed in float64).

    Derivative in ``z``: ``(jv(v - 1, z) - jv(v + 1, z)) / 2`` (any order). In ``v``:
    NotImplementedError.

    Values from SciPy on NumPy (from ``|z| = 1e15`` the generic one below: SciPy's is wrong
    past about ``2**52``, ``jv(1, 1e17)`` 1.2 envelopes off, one value for every order at
    1e300; session 55) and cupyx on CuPy (where it has ``jv``). Elsewhere (torch,
    array-api-strict) the generic version of :mod:`functrans.backends.special_generic`:
    the power series where ``z**2 / 4 <= max(1, v + 1)``, Hankel's asymptotic expansion for
    ``z >= 25`` where it converges, Miller's backward recurrence elsewhere; about 1e-14
    relative to the envelope ``min(1, sqrt(2 / (pi z)))`` (near zeros of ``J_v`` relative to
    that, as any method; away from them relative to the value, also for the tiny values of
    ``v`` well above ``z`` and the huge ones of large negative ``v``), for ``|v| <= 2000``
    (beyond, Hankel's expansion where it converges, ``z`` far above ``v**2``: within 4e-16
    of the envelope at ``|z|`` from 1e15 to 1e300 and ``|v|`` up to 3e7, integer or not,
    where SciPy's is up to 2 envelopes off and it was nan before session 56; else 0 where
    the value underflows, else nan). Before session 16 the orders of one
    array disturbed each other's recurrence: over ``v`` in (-500, 500), ``z = e**t``, ``t``
    in (-5, 7) (``python -m benchmarks.special_coverage``) 8.9 % of the finite values came
    out nan and a few 0 or with relative errors up to 3e-8; now none, the largest relative
    error 7.5e-13. For ``z`` of some thousands with orders of hundreds (Miller's recurrence
    over thousands of steps, Hankel's expansion not converging) the error reaches about
    2e-11 relative to the envelope (session 16's measurements, as before). Of order 0 and
    +-1, float64 ``z`` near a zero of ``J_0`` or ``J_1`` has :func:`j0`'s and :func:`j1`'s
    values (their forms there: 2 ulp; ``jv(0, 2.404825557695773)`` was 0 before session 50)."""
    v, z = _real_weak((v, z), "jv")
    if _dtype(z) in _LOW:
        return _in64_many(jv, (v, z))
    integer = v == fnp.floor(v)
    neg_pole = _all(v < 0.0, fnp.logical_not(integer))
    # (z = 0 reaches the primitive, for its derivative there, except where J_v has a pole)
    ok = _all(fnp.isfinite(v), fnp.isfinite(z), _any(z != 0.0, fnp.logical_not(neg_pole)))
    out = _sp.jv(_where(ok, v, 0.0), _where(ok, z, 1.0))
    vs = fnp.stop_gradient(v)
    at0 = fnp.multiply(_gamma_sign(vs + 1.0), _inf)
    out = _where(_all(z == 0.0, neg_pole, fnp.isfinite(v)), at0, out)
    out = _where(_all(fnp.isinf(v), fnp.isfinite(z)), 0.0, out)
    return _where(_any(fnp.isinf(z), v != v, z != z,
                       _all(z < 0.0, fnp.logical_not(integer))), math.nan, out)


def ive(v, x, /):
    """The exponentially scaled modified Bessel function of the first kind of real order,
    ``exp(-|x|) I_v(x)``, for real ``x``: finite where ``I_v`` overflows.

    As SciPy for real input: nan for ``x < 0`` unless ``v`` is an integer (then
    ``I_n(-x) = (-1)**n I_n(x)``), and for infinite ``x`` and nan; ``I_-n = I_n``. At
    ``x = 0``: 1 for ``v = 0``, 0 for ``v > 0`` and the negative integers. Where SciPy's
    ``ive`` gives nan but its ``iv`` a value (a negative fractional ``v`` at ``x = 0``:
    ``inf``; an infinite ``v`` with a finite ``x``: 0), this gives that value. No complex
    ``x`` (a TypeError; SciPy takes it). float32 only where both operands are float32
    (computed in float64).

    Derivative in ``x``: ``(ive(v - 1, x) + ive(v + 1, x)) / 2 - sign(x) ive(v, x)`` (at 0,
    where ``exp(-|x|)`` has a corner, the average of the two sides); from ``|x| = 30`` where
    ``v**2 <= 2|x|`` (from 1e4 where ``v**2 <= 6|x|``), whose two terms cancel there to about
    ``2|x| eps`` relative, ``sign(x) ive(v, x) F'/F`` with ``F`` the asymptotic series of
    ``sqrt(2 pi |x|) ive`` (within a few ulp; session 54); elsewhere from ``|x| = 30`` where
    ``|x| >= 3|v|`` (the closed form cancels to ``2 x**2 / v**2 eps`` there: 1.4e-9 at
    ``v = 1000, x = 1e5``, its second derivative 1e-4) ``sign(x) ive(v, x) g`` with ``g =
    d/dt log ive`` from Debye's uniform expansion (within a few ulp of mpmath relative to
    ``ive``, second derivatives too; session 55). In ``v``:
    NotImplementedError (as ``jv``; JAX has no ``iv``).

    Values from SciPy on NumPy; elsewhere (torch, array-api-strict, CuPy) the generic
    version of :mod:`functrans.backends.special_generic`: Hankel's expansion for
    ``x >= 50`` where ``v**2 <= x``, the power series up to ``x = 600`` otherwise, Debye's
    uniform expansion beyond; about 1e-14 relative (3e-13 for orders in the hundreds, 1e-12
    in the thousands); nan for a negative fractional order ``|v| > |x| > 600``."""
    v, x = _real_weak((v, x), "ive")
    if _dtype(x) in _LOW:
        return _in64_many(ive, (v, x))
    return _ive_edges(v, x, _sp.ive)


def _ive_edges(v, x, scaled):
    integer = v == fnp.floor(v)
    ok = _all(fnp.isfinite(v), fnp.isfinite(x), _any(x >= 0.0, integer))
    out = scaled(_where(ok, v, 0.0), _where(ok, x, 1.0))
    out = _where(_all(x == 0.0, v < 0.0, fnp.logical_not(integer), fnp.isfinite(v)), _inf,
                 out)
    out = _where(_all(fnp.isinf(v), fnp.isfinite(x)), 0.0, out)
    return _where(_any(fnp.isinf(x), v != v, x != x,
                       _all(x < 0.0, fnp.logical_not(integer))), math.nan, out)


def iv(v, x, /):
    """The modified Bessel function of the first kind of real order ``I_v(x)``, for real
    ``x``: ``ive(v, x) * exp(|x|)`` (see :func:`ive` for the values at the edges, as
    SciPy's ``iv``: nan at ``x = +-inf``, ``inf`` for a negative fractional ``v`` at 0, 0
    for an infinite ``v``); overflows to ``inf`` where ``I_v`` does (``x`` beyond about
    713 for small orders).

    Derivative in ``x``: ``(iv(v - 1, x) + iv(v + 1, x)) / 2`` (``inf`` where that
    overflows). In ``v``: NotImplementedError."""
    global _iv_fn
    v, x = _real_weak((v, x), "iv")
    if _dtype(x) in _LOW:
        return _in64_many(iv, (v, x))
    if not (isinstance(v, _Tracer) or isinstance(x, _Tracer)):
        return _iv_value(v, x)
    if _iv_fn is None:
        from ..custom import custom_jvp
        _iv_fn = custom_jvp(_iv_value)
        # The derivative as one rule: through ive(v, x) e^|x|, its two terms ive' e^|x| and
        # sign(x) ive e^|x| are -inf and +inf where e^|x| overflows (|x| beyond 713): nan
        # for I_v' = inf (session 53: grad(iv)(0.0, 800.0), jvp at 1e300).
        _iv_fn.defjvp(_iv_jvp, symbolic_zeros=True)
    return _iv_fn(v, x)


def _iv_value(v, x):
    def unscaled(v, x):
        half = fnp.exp(0.5 * fnp.abs(x))  # (twice, so no overflow before I_v's own)
        return _sp.ive(v, x) * half * half
    with _np.errstate(over="ignore", invalid="ignore"):  # (inf past 713, as SciPy: silent)
        return _ive_edges(v, x, unscaled)


def _iv_jvp(primals, tangents):
    from ..custom import SymbolicZero
    v, x = primals
    tv, tx = tangents
    if not isinstance(tv, SymbolicZero):
        raise NotImplementedError(
            "iv: the derivative with respect to the parameter v is not implemented (only the "
            "derivative with respect to x is: (iv(v - 1, x) + iv(v + 1, x)) / 2); "
            "stop_gradient v or differentiate with respect to x only")
    out = _iv_fn(v, x)
    if isinstance(tx, SymbolicZero):
        return out, SymbolicZero.from_primal_value(out)
    slope = fnp.multiply(fnp.add(_iv_fn(v - 1.0, x), _iv_fn(v + 1.0, x)), 0.5)
    # (a zero tangent where the value is nan, as the edges' selection gave before)
    return out, fnp.multiply(tx, _where(out != out, 0.0, slope))


_iv_fn = None


def bessel_jn(z, *, v, n_iter=50):
    """``J_0(z), ..., J_v(z)`` (Bessel functions of the first kind of the integer orders 0
    to ``v``) stacked on a new leading axis: shape ``(v + 1, *z.shape)``, ``z``'s floating
    dtype (integers give float64), as ``jax.scipy.special.bessel_jn``.

    ``v`` is a Python int ``>= 0`` (a TypeError otherwise). ``n_iter`` (JAX's number of
    Miller recurrence steps) is accepted and ignored: the values are those of :func:`jv`,
    accurate for every ``z`` (JAX's lose accuracy for ``|z|`` beyond about ``n_iter``).
    Real ``z`` only. Derivative in ``z`` as :func:`jv`'s."""
    v = operator.index(v)
    operator.index(n_iter)
    if v < 0:
        raise ValueError(f"bessel_jn: v must be a non-negative integer, got {v}")
    if type(z) in _SCALARS:
        z = _to_array(z, _dt.float64)
    d = _dtype(z)
    if d.kind == "c":
        raise TypeError(f"bessel_jn: complex input ({d.name}) is not supported")
    if d.kind not in "f":
        z = _st.convert_element_type(z, _dt.float64)
    orders = fnp.stack([fnp.full_like(z, float(k)) for k in range(v + 1)])
    return jv(orders, fnp.broadcast_to(fnp.expand_dims(z, 0), orders.shape))


def _harmonic_index(v, name):
    """A degree or order of sph_harm_y: a Python int, or a concrete integer (or bool) array
    (its values are needed to size the recurrence); returned as float64 (array or number)."""
    if type(v) is bool or type(v) is int:
        return float(v)
    if isinstance(v, _Tracer):
        raise TypeError(f"sph_harm_y: {name} must be concrete (a Python int or an integer "
                        f"array, not a traced value): it sets the length of the recurrence")
    if not hasattr(v, "shape"):
        try:
            return float(operator.index(v))
        except TypeError:
            raise TypeError(f"sph_harm_y: {name} must be an integer or an integer array; "
                            f"got {type(v).__name__}") from None
    d = _dtype(v)
    if d.kind not in "iub":
        raise TypeError(f"sph_harm_y: {name} must be an integer array; got {d.name} (SciPy "
                        f"refuses floating degrees and orders too)")
    return fnp.astype(v, _dt.float64)


def _concrete_max(v):
    if type(v) is float:
        return int(v)
    return int(fnp.max(v)) if _size(v) else 0


def sph_harm_y(n, m, theta, phi, *, diff_n=0):
    """The spherical harmonic ``Y_n^m(theta, phi) = sqrt((2n + 1)/(4 pi) (n-m)!/(n+m)!)
    P_n^m(cos theta) exp(i m phi)`` of degree ``n`` and order ``m`` (SciPy >= 1.15's
    convention: ``theta`` the polar angle, ``phi`` the azimuth, the Condon-Shortley phase
    included), complex128, broadcast over ``n``, ``m``, ``theta``, ``phi``.

    As SciPy: 0 where ``|m| > n`` (and for negative ``n``); a function of ``cos(theta)`` and
    ``|sin(theta)|`` for ``theta`` outside ``[0, pi]``; nan for non-finite angles.
    ``n`` and ``m`` are Python ints or integer arrays holding concrete values (not traced:
    they set the number of recurrence steps, TypeError otherwise); floating ``n``, ``m``:
    TypeError, as SciPy. ``diff_n > 0`` (SciPy's derivatives returned beside the value):
    NotImplementedError; differentiate with ``grad`` / ``jvp`` instead.

    Computed with the normalized associated Legendre recurrence (``P_m^m`` from
    ``P_{m-1}^{m-1}``, then upwards in the degree) in :mod:`functrans.numpy` operations on
    every backend, so that derivatives in ``theta`` and ``phi`` of any order come from the
    operations themselves (at ``theta`` = 0 or pi the one-sided derivative within
    ``[0, pi]``); about 1e-15 relative to the largest harmonics of the degree."""
    diff_n = operator.index(diff_n)
    if diff_n < 0:
        raise ValueError(f"sph_harm_y: diff_n must be >= 0; got {diff_n}")
    if diff_n > 0:
        raise NotImplementedError(
            "sph_harm_y: diff_n > 0 (the derivatives returned beside the value) is not "
            "implemented; use diff_n=0 and differentiate with grad / jvp / jacfwd")
    nf = _harmonic_index(n, "n")
    mf = _harmonic_index(m, "m")
    n_max = _concrete_max(nf)
    m_max = min(_concrete_max(fnp.abs(mf) if type(mf) is not float else abs(mf)),
                max(n_max, 0))
    theta, phi = _real_pair(theta, phi, "sph_harm_y")
    theta = fnp.astype(theta, _dt.float64)
    phi = fnp.astype(phi, _dt.float64)
    args = [v if type(v) is not float else fnp.full_like(theta, v) for v in (nf, mf)]
    nn, ms, theta, phi = fnp.broadcast_arrays(*args, theta, phi)
    mm = fnp.abs(ms)
    x = fnp.cos(theta)
    s = fnp.sin(theta)
    s = _where(s >= 0.0, s, fnp.negative(s))
    # P_m^m (normalized, with the Condon-Shortley phase) for every element's |m|
    p = fnp.full_like(x, 0.5 / math.sqrt(math.pi))
    pmm = p
    for k in range(1, m_max + 1):
        p = fnp.multiply(fnp.multiply(p, s), -math.sqrt((2.0 * k + 1.0) / (2.0 * k)))
        pmm = _where(mm == float(k), p, pmm)
    out = _where(nn == mm, pmm, 0.0)
    prev2, prev = fnp.zeros_like(x), pmm
    for deg in range(1, n_max + 1):
        active = mm < float(deg)
        d2 = float(deg * deg)
        a = fnp.sqrt((4.0 * d2 - 1.0) / _where(active, d2 - mm * mm, 1.0))
        e = float((deg - 1) ** 2)
        b = fnp.sqrt(fnp.maximum(e - mm * mm, 0.0) / max(4.0 * e - 1.0, 1.0))
        new = fnp.multiply(a, fnp.subtract(fnp.multiply(x, prev), fnp.multiply(b, prev2)))
        prev2 = _where(active, prev, prev2)
        prev = _where(active, new, prev)
        out = _where(active & (nn == float(deg)), new, out)
    odd = fnp.remainder(mm, 2.0) == 1.0
    out = _where((ms < 0.0) & odd, fnp.negative(out), out)
    angle = fnp.multiply(ms, phi)
    re = fnp.astype(fnp.multiply(out, fnp.cos(angle)), _dt.complex128)
    im = fnp.astype(fnp.multiply(out, fnp.sin(angle)), _dt.complex128)
    y = fnp.add(re, fnp.multiply(im, 1j))
    # (logical_and, not &: a plain array-api-strict array refuses a tracer on its right)
    bad = fnp.logical_not(fnp.logical_and(fnp.isfinite(theta), fnp.isfinite(phi)))
    return _where(bad, fnp.full_like(y, complex(math.nan, math.nan)), y)


# -- special18: the distribution functions of SciPy's cdflib names -----------------------------
# (each composed of the incomplete gamma and beta functions above, so differentiable wherever
# those are: in the continuous arguments, to third order in the shapes; the integer counts
# of the discrete distributions are floored and carry no derivative)


def _weak64(name, args, fn, loops=None):
    """``fn`` of the operands as SciPy's ``ff->f`` ufuncs see them (:func:`_real_weak`; with
    ``loops``, as NumPy picks among those), computed in float64 (float32 and 16-bit floats
    rounded once)."""
    return _in64_many(fn, _real_weak(args, name, loops))


class _TracedBackend:
    """functrans.numpy in the place of a backend, for the backend-level formulas written
    against one (``backend.xp`` and the extras they ask for: ``lgamma``), so that one
    implementation serves both the array libraries' extras and differentiable code."""

    xp = fnp

    @staticmethod
    def extra(name):
        if name != "lgamma":
            raise NotImplementedError(f"the traced stand-in backend has no extra {name!r}")
        return _sp.lgamma


_TRACED = _TracedBackend()


def _lined_up(values, constants=True):
    """``(arrays, interp)``: the arrays behind ``values`` where each is an array, or a
    batch tracer of one vmap (``interp``; None where none is) around one: that array lined
    up with the others (the batch axis first, the value's own axes aligned with the others'
    from the right, as broadcasting aligns them), so that they combine elementwise; and
    through forward mode's tracers: with ``constants`` its constants only (stop_gradient's
    results: no derivative lost), else any (their values only, for masks). Python bools
    pass as they are. None where an array is not known so (staged values, nested vmaps,
    derivatives with ``constants``)."""
    from ..batching import BatchTracer
    out, interp = [], None
    for v in values:
        while isinstance(v, _Tracer):
            if type(v) is BatchTracer:
                if (interp is not None and v._interp is not interp) or isinstance(
                        v.val, _Tracer):
                    return None
                interp = v._interp
                break
            if constants and type(v) is not _ConstTracer:
                return None
            v = getattr(v, "primal", None)  # (hessian's constants: one a level)
        if not (type(v) is bool or hasattr(v, "dtype")):
            return None
        out.append(v)
    if interp is None:
        return out, None
    ndim = max(len(v.shape) for v in out if type(v) is not bool)  # (the values' own axes)
    lined = []
    for v in out:
        if type(v) is BatchTracer:
            arr = v.val
            pad = ndim - (len(arr.shape) - 1)
            if pad:
                arr = _backend_of(arr).xp.reshape(
                    arr, (arr.shape[0],) + (1,) * pad + tuple(arr.shape[1:]))
            v = arr
        lined.append(v)
    return lined, interp


def _log_beta_front(a, b, x, y, log_x, log_y, s_num=None):
    """``log(x^a y^b / (a B(a, b)))`` for ``a, b > 0`` finite and ``0 < x < 1``, ``y = 1 - x``
    and the logarithms accurate (arrays): the generic incomplete beta function's prefactor
    (:func:`functrans.backends.generic._log_beta_front`, a deviance form with Stirling's
    corrections whose terms are of the size of the result at any shapes), on the arrays'
    own backend where none is a tracer (no derivative to carry: ~0.1 ms for a scalar where
    functrans.numpy's took ~0.5 ms), else on functrans.numpy, differentiable. The plain
    ``a log x + b log y - betaln(a, b) - log a`` loses about eps times the size of its
    terms (``a log1p(b/a) + b log1p(a/b)``): 4e16 at a = 3e30, where the truth is -437.
    Constants of forward mode (stop_gradient's results, under grad and hessian) count as
    their arrays, and so do the batch tracers of one vmap around arrays (lined up): same
    bits, ~45 fewer primitives bound (~100 under vmap). ``s_num``: ``x b - y a`` where the
    caller has it more precisely than from x and y (F's, from z - 1)."""
    from ..batching import BatchTracer
    backend, interp = _TRACED, None
    ops = (a, b, x, y, log_x, log_y) + (() if s_num is None else (s_num,))
    found = _lined_up(ops)
    if found is not None and not any(type(v) is bool for v in found[0]):
        ops, interp = found
        a, b, x, y, log_x, log_y = ops[:6]
        s_num = ops[6] if len(ops) > 6 else None
        backend = _backend_of(a)
    with _np.errstate(over="ignore"):  # (Stirling's series squares the shapes: inf is right)
        const = _generic._beta_front_const(backend, a, b)
        out = _generic._log_beta_front(backend.xp, a, b, x, y, log_x, log_y, const, s_num)
    return out if interp is None else BatchTracer(interp, out)


def _log_beta_density_x(a, b, x, y):
    """``log(x^a y^(b-1) / B(a, b))`` for ``a, b > 0`` finite, ``y = 1 - x`` precise and
    ``0 < y < 1/2`` (what :func:`_inc_beta`'s choice needs, at any shapes), from
    :func:`_log_beta_front`."""
    log_y = fnp.log(y)
    return fnp.subtract(fnp.add(_log_beta_front(a, b, x, y, fnp.log1p(fnp.negative(y)), log_y),
                                fnp.log(a)), log_y)


_EPS64 = 2.0 ** -53


def _inc_beta(a, b, x, y):
    """``I_x(a, b)`` for ``a, b > 0`` finite and ``0 <= x <= 1``, given ``y = 1 - x`` computed
    precisely (not by the subtraction, where the caller has a better formula). For
    ``x <= 1/2`` directly; above, the direct form with the rounding of ``x`` taken back
    (below) or ``1 - I_y(b, a)``, whichever errs less: the subtraction by about
    ``eps c`` (``c = I_y(b, a)``), the direct form by about ``eps (1 - c)`` (the backend's
    betainc at an exact ``x`` is within a few ulp, at any shapes) plus the error of the
    shift that takes ``x``'s rounding back, ``|shift| (a - 1) |d| / x`` (``d = (1 - x) - y``:
    the shift holds ``t^(a-1)`` at ``x^(a-1)`` over ``[x, x + d]``; at a huge ``a`` with ``y``
    near eps, as stdtr's at df 1e12, ``a d`` is not small). At a tiny ``b`` the values from
    :func:`_inc_beta_small_b` (both forms lose ``eps / I`` there), and on the backends with
    the generic betainc those of :func:`_inc_beta_generic_complement`; in staged code at
    evaluation, through the primitive inc_beta_values_fix (one host read). Each
    evaluation sees its own elements only (the others a stand-in), so that neither gives a
    nan derivative where it is not used."""
    from .stats import _value_first, _where_taken  # (stats imports this module)
    upper = x > 0.5
    if not _may_hold(upper):  # (the selections below would all take the direct form)
        return _inc_beta_large_shapes(_sp.betainc(a, b, x), a, b, x, y)
    if all(isinstance(v, (_np.ndarray, _np.float64)) and v.dtype == _np.float64
           for v in (a, b, x, y)):
        return _inc_beta_on_numpy(a, b, x, y)
    # (the choice from comp's value alone: where a derivative flows, computed from the
    # stopped operands, and comp with its shape derivatives only where some element
    # takes the subtraction; the direct form likewise; jit computes both)
    comp, comp_live = _value_first(_sp.betainc, b, a, _where(upper, y, 0.5), own=False)
    xs, ys = fnp.stop_gradient(_where(upper, x, 0.75)), fnp.stop_gradient(_where(upper, y, 0.25))
    a0, b0 = fnp.stop_gradient(a), fnp.stop_gradient(b)
    log_xslope = _log_beta_density_x(a0, b0, xs, ys)
    # (y = 0, x = 1 exactly: nothing to take back)
    moved = fnp.logical_and(upper, ys > 0.0)
    # above 1/2 the value at 1 - y, y being the precise one: x's rounding, moved by a
    # factor x I'_x / I_x (~a: 2e-11 relative in t.cdf(-6, 1e6); 1.4e-3 in
    # f.cdf(300, 1e4, 1e-8), where 1 - x = 3e-15), is taken back by the integral of the
    # density from x to 1 - y, x^(a-1) ((1 - x)^b - y^b) / (b B(a, b)) =
    # x I'_x / x * y / b * expm1(b log1p(d / y)), d = (1 - x) - y; the value only: the
    # derivatives are those at x
    shift = _on_arrays(_inc_beta_shift, moved, log_xslope, xs, ys, b0)
    # (the subtraction only where it errs less than the direct form would without the shift,
    # eps c < eps x I'_x, and not far more than with it)
    c0 = fnp.stop_gradient(comp)
    # (log 0 = -inf where comp underflows, without the warning staged code gave)
    use_sub = _all(upper, fnp.less(_on_arrays(_log_or_minus_inf, c0), log_xslope),
                   _on_arrays(_inc_beta_takes_complement, c0, shift, xs, ys, a0))

    def direct():
        out = _sp.betainc(a, b, _where(use_sub, 0.5, x))
        if not _may_hold(fnp.logical_and(moved, fnp.logical_not(use_sub))):
            return out
        return fnp.add(out, fnp.stop_gradient(shift))
    out = _where_taken([(use_sub, lambda: 1.0 - comp_live(use_sub))], direct)
    x0, y0 = fnp.stop_gradient(x), fnp.stop_gradient(y)
    if isinstance(b0, _Tracer) and _concrete_behind(b0) is None:
        # (staged: the series' values at evaluation, by one primitive reading the arrays)
        shape = out.shape
        return _sp.inc_beta_values_fix(*(v if v.shape == shape else fnp.broadcast_to(v, shape)
                                         for v in (out, a0, b0, x0, y0, use_sub)))
    return _inc_beta_values_on_arrays(out, a0, b0, x0, y0, use_sub)


def _log_or_minus_inf(xp, c):
    """``log c`` for ``c >= 0``, -inf at 0 without a warning (staged code evaluates outside
    the callers' error state)."""
    pos = c > 0.0
    return xp.where(pos, xp.log(xp.where(pos, c, xp.ones_like(c))), xp.full_like(c, -_inf))


# the number of levels of the continued fraction that predicts _inc_beta's choice on NumPy
_CHOICE_LEVELS = 6


def _inc_beta_sub_likely(a, b, y):
    """Whether :func:`_inc_beta` likely takes the subtraction ``1 - I_y(b, a)`` (NumPy
    arrays, ``x > 1/2``): its choice is mostly ``c < x f(x)`` (``c = I_y(b, a)``, ``f`` the
    Beta(a, b) density), and ``c / (x f(x)) = (y / b) / K``, ``K`` the continued fraction of
    ``I_y(b, a)`` (``I = y^b x^a / (b B(a, b) K)``), here to _CHOICE_LEVELS levels (no
    gamma function). Only a guess, for which betainc to compute first: the choice itself
    is the exact one (t.logcdf of 1e5 points, df in [1, 30]: every element guessed right;
    f's and beta's shapes a few in 1000 wrong, t's above df = 1e3 ~8 %: those pay a second
    betainc)."""
    k_frac = None
    for k in range(_CHOICE_LEVELS, 0, -1):
        m = k // 2
        if k % 2:
            d = -(b + m) * (b + (a + m)) * y / ((b + 2.0 * m) * (b + (2.0 * m + 1.0)))
        else:
            d = m * (a - m) * y / ((b + (2.0 * m - 1.0)) * (b + 2.0 * m))
        k_frac = 1.0 + (d if k_frac is None else d / k_frac)
    return ~(y > b * k_frac)  # (nan: the subtraction first)


def _inc_beta_on_numpy(a, b, x, y):
    """:func:`_inc_beta` of NumPy float64 values (no derivative): the same choice and bits,
    each part on its own elements only, one betainc for most: where ``x > 1/2``, first the
    complement ``I_y(b, a)`` where :func:`_inc_beta_sub_likely` guesses the subtraction, the
    direct form elsewhere (its complement ``1 - I_x(a, b)`` then standing in for the
    choice's ``c``), the other form only where the choice is not the guess (before, the
    complement on every element above 1/2 and the direct form again on those the choice
    sent there: t.logcdf of 1e5 points took ~2x SciPy's time)."""
    shape = _np.broadcast_shapes(*(_np.shape(v) for v in (a, b, x, y)))
    a, b, x, y = (_np.broadcast_to(_np.asarray(v), shape).ravel() for v in (a, b, x, y))
    up = _np.flatnonzero(x > 0.5)
    au, bu, xu, yu = a[up], b[up], x[up], y[up]
    out = _np.empty(x.shape)
    with _np.errstate(all="ignore"):
        first = _inc_beta_sub_likely(au, bu, yu)
        comp = _np.empty(up.shape)
        known = first.copy()  # (where comp is betainc's own, not 1 - the direct form)
        if first.any():
            comp[first] = _sp.betainc(bu[first], au[first], yu[first])
        second = _np.flatnonzero(~first)
        if second.size:
            direct_up = _sp.betainc(au[second], bu[second], xu[second])
            out[up[second]] = direct_up
            comp[second] = 1.0 - direct_up
        sub, shift = _inc_beta_choice(au, bu, xu, yu, comp)
        # (the subtraction chosen from the stand-in: betainc's complement there, the choice
        # again from it; the same bits as _inc_beta's elsewhere, its choice from that one)
        redo = _np.flatnonzero(sub & ~known)
        if redo.size:
            comp[redo] = _sp.betainc(bu[redo], au[redo], yu[redo])
            sub[redo], shift[redo] = _inc_beta_choice(au[redo], bu[redo], xu[redo], yu[redo],
                                                      comp[redo])
            known[redo] = True
    # the direct form where x <= 1/2, and above where the choice is not the subtraction and
    # only the complement is known
    todo = _np.ones(x.shape, bool)
    todo[up[~known | sub]] = False
    direct = _np.flatnonzero(todo)
    if direct.size:
        out[direct] = _sp.betainc(a[direct], b[direct], x[direct])
    # (x's rounding taken back where the direct form holds above 1/2: see _inc_beta)
    keep = ~sub
    out[up[keep]] += shift[keep]
    out[up[sub]] = 1.0 - comp[sub]
    use_sub = _np.zeros(x.shape, bool)
    use_sub[up[sub]] = True
    return _inc_beta_values_on_arrays(*(v.reshape(shape) for v in (out, a, b, x, y, use_sub)))


def _inc_beta_choice(au, bu, xu, yu, comp):
    """:func:`_inc_beta`'s choice on NumPy arrays where ``x > 1/2``, from ``comp`` (``I_y(b,
    a)``): whether each takes the subtraction, and the direct form's shift (0 where the
    subtraction is clear). (The choice from the plain log density, a few lgamma, where its
    error bound keeps it clear of log c, and c < 64/65 (the subtraction then taken whatever
    the shift error, which is not nan: a != 1, where an overflowed shift gave inf * 0, and
    the density below e^700): the same choice, without the deviance form (a third of
    t.logcdf's time) on most elements; that form on the others, as _inc_beta.)"""
    from scipy.special import gammaln
    sub = _np.zeros(au.shape, bool)
    lc = _np.log(comp)
    # (one b for all, as stdtr's 1/2: its lgamma once, the same bits)
    one_b = bu.size and bu[0] == bu[0] and not (bu != bu[0]).any()
    terms = (au * _np.log1p(-yu), (bu - 1.0) * _np.log(yu), gammaln(au),
             gammaln(bu[:1]) if one_b else gammaln(bu), gammaln(au + bu))
    plain = terms[0] + terms[1] - terms[2] - terms[3] + terms[4]
    bound = 1e-13 * (1.0 + sum(_np.abs(t) for t in terms))
    clear = ((lc < plain - bound) & (comp < 64.0 / 65.0) & (au != 1.0)
             & (plain + bound < 700.0))
    sub[clear] = True
    # (clear the other way, log c above the bound: the direct form whatever the deviance
    # form's value; there the shift from the plain log density where the bound, its
    # relative error, is below 1e-11 (the shift is mostly a few ulp of out at most there:
    # no bit of out moved in 3e5 elements of t's, f's and beta's shapes), the deviance form
    # on the others only: it had taken half the choice's time in t.logcdf)
    off = (lc > plain + bound) & (bound < 1e-11) & (plain + bound < 700.0)
    rest = _np.flatnonzero(~clear)
    dev = _np.flatnonzero(~clear & ~off)
    log_xslope = plain  # (plain's array, its elements in dev replaced)
    if dev.size:
        log_xslope[dev] = _log_beta_density_x(au[dev], bu[dev], xu[dev], yu[dev])
    yr = yu[rest]
    shift = _np.zeros(au.shape)
    shift[rest] = _inc_beta_shift(_np, yr > 0.0, log_xslope[rest], xu[rest], yr, bu[rest])
    sub[dev] = (_np.log(comp[dev]) < log_xslope[dev]) & _inc_beta_takes_complement(
        _np, comp[dev], shift[dev], xu[dev], yu[dev], au[dev])
    return sub, shift


def _inc_beta_values_on_arrays(out, a, b, x, y, use_sub):
    """:func:`_inc_beta`'s ``out`` with the values of :func:`_inc_beta_large_shapes`,
    :func:`_inc_beta_generic_complement` and :func:`_inc_beta_small_b` where they apply
    (where the operands are known: eagerly, under vmap, and at evaluation of staged code
    through the primitive inc_beta_values_fix). ``x`` and ``y``: _inc_beta's (stopped)."""
    out = _inc_beta_large_shapes(out, a, b, x, y)
    # (y: the others take elements above x = 1/2 only, y < 1/2)
    out = _inc_beta_generic_complement(out, a, b, y, use_sub)
    return _inc_beta_small_b(out, a, b, y)


# From a + b = _LARGE_SHAPES on, _inc_beta's values are from the backend's betaincc: above
# x = 1/2 betaincc(b, a, y) at the precise y (no rounding of x to take back, no
# subtraction), below 1 - betaincc(a, b, x) where the value is at least 1/4 (the subtraction
# then within 3 eps). SciPy 1.17's betainc is itself up to 8e-13 relative off there at exact
# arguments (10 % of 4200 points of shapes 0.1 .. 3e5 above 1e-14, against mpmath), which
# the direct form carries (f.cdf(0.27866, 3709.08, 600.40) 4.3e-13 off, beta.cdf(3.6e-5, 3,
# 1e5) 1.9e-12) and the subtraction 1 - I_y(b, a) multiplies by I_y / (1 - I_y)
# (f.cdf(0.89469, 1e5, 30) 4.1e-13), where its betaincc (Boost's, in long double; ~9x
# betainc's time) was within 3e-16 on all of them. Below, betainc is within ~5e-14 and
# betaincc's cost is not worth it (t.cdf: a + b = df/2 + 1/2).
_LARGE_SHAPES = 1000.0
# (up to this a + b, the range surveyed: beyond, Boost's betaincc errs itself, betaincc(1e30,
# 3e30, 0.25) a factor 10 off where betainc is within the conditioning)
_LARGE_SHAPES_MAX = 1e6
# (betaincc's value and the one in hand agreeing within this relative difference:
# betaincc's; beyond, the one nearer the generic methods' value, as a referee: Boost's
# betaincc has rare points of its own, 1.8e-13 off at (15, 1854.5, 0.0080645), where betainc
# is exact. From 2^-48 up the referee's share of the cost fell from a quarter)
_LARGE_SHAPES_AGREE = 2.0 ** -45


def _large_shapes(a, b):
    """Where :func:`_inc_beta_large_shapes` may change :func:`_inc_beta`'s values: a NumPy
    array where the shapes' values are (no primitive bound: scalar grad(f.cdf) paid ~3
    binds), else a traced mask."""
    (ca, batched_a), (cb, batched_b) = (_concrete_behind(v, report_batch=True) for v in (a, b))
    if (isinstance(ca, (_np.ndarray, _np.generic)) and isinstance(cb, (_np.ndarray, _np.generic))
            and not (batched_a or batched_b)):
        ab = ca + cb
        return (ab >= _LARGE_SHAPES) & (ab <= _LARGE_SHAPES_MAX)
    ab = fnp.add(a, b)
    return fnp.logical_and(ab >= _LARGE_SHAPES, ab <= _LARGE_SHAPES_MAX)


def _inc_beta_large_shapes(out, a, b, x, y):
    """``out`` (:func:`_inc_beta`'s ``I_x(a, b)``, its derivatives kept) with the values of
    the backend's ``betaincc(b, a, y)`` where ``x > 1/2``, of ``1 - betaincc(a, b, x)``
    where ``0 < x <= 1/2`` and ``out >= 1/4``, both where ``a + b >= _LARGE_SHAPES``,
    unless the two differ by more than ``_LARGE_SHAPES_AGREE`` relative and ``out`` is
    nearer the generic methods' value (:func:`functrans.backends.generic._betainc_pair`).
    Only where the operands are known (eagerly, under vmap; staged code at evaluation),
    else ``out``."""
    from ..batching import BatchTracer
    found = _lined_up((a, b, x, y, out), constants=False)
    if found is None or any(type(v) is bool for v in found[0]):
        return out
    (a, b, x, y, value), interp = found
    bk = _backend_of(b)
    with _np.errstate(all="ignore"):
        if isinstance(value, (_np.ndarray, _np.generic)):
            got = _large_shapes_on_numpy(bk, a, b, x, y, value)
        else:
            got = _large_shapes_on_arrays(bk, a, b, x, y, value)
    if got is None:
        return out
    new, take = got
    if interp is None and isinstance(out, (_np.ndarray, _np.generic)):
        # (no derivative to keep: the values at the others are out's; a NumPy scalar kept)
        return new[()] if isinstance(out, _np.generic) else new
    if interp is not None:
        new, take = BatchTracer(interp, new), BatchTracer(interp, take)
    # (the values only: the derivatives are out's)
    return fnp.where(take, fnp.add(new, _tangent_of(out)), out)


# Below x = 1/2 and I under 1/4 (the subtraction 1 - betaincc(a, b, x) then loses up to
# 1 / I), SciPy's betainc is itself up to ~2e-13 relative off at large shapes (f.cdf(0.96056,
# 1e5, 1e5): 1.2e-13 at the exact u; beta's and F's lower tails), where Boost's betaincc(b, a,
# y) at y = 1 - x exact is within ~1e-16: it is taken at y = fl(1 - x), i.e. at x' = 1 - y
# (exact), plus the density's integral over [x', x], f(x) (x - x') (|x - x'| <= 2^-54). Only
# where that first-order term is at most 2^-27 relative (it is below (a + b) 2^-54 / x: I's
# conditioning x f / I is below a + b, times |x - x'| / x): x >= (a + b) 2^-27; the
# second-order term is about its square, under 6e-17.
_SMALL_SIDE_PAIR_RATIO = 2.0 ** -27


def _small_side_pair_ok(a, b, x):
    """Where :func:`_inc_beta_large_shapes` may take the exact pair below x = 1/2."""
    return x >= (a + b) * _SMALL_SIDE_PAIR_RATIO


def _small_side_pair_shift(bk, a, b, x, y, take=None):
    """``I_x(a, b) - I_x'(a, b)`` to first order, ``x' = 1 - y``, ``y = fl(1 - x)``: the
    Beta(a, b) density at x (from _log_beta_front's deviance form) times ``x - x'``; 0 where
    not ``take`` (stand-ins there)."""
    xp = bk.xp
    d = x - (1.0 - y)   # (exact: 1 - y is, and it lies within 2^-54 of x)
    lf = _generic._log_beta_front(xp, a, b, x, y, xp.log(x), xp.log(y),
                                  _generic._beta_front_const(bk, a, b))
    shift = xp.exp(lf) * a / (x * y) * d
    return shift if take is None else xp.where(take, shift, xp.zeros_like(shift))


def _large_shapes_on_numpy(bk, a, b, x, y, value):
    """:func:`_inc_beta_large_shapes`'s ``(new, take)`` on NumPy arrays (``new`` is
    ``value`` where not ``take``), each part on its own elements only (betaincc costs ~9x
    betainc, the generic referee far more), or None where no element takes it."""
    ab = a + b
    big = (ab >= _LARGE_SHAPES) & (ab <= _LARGE_SHAPES_MAX)
    if not big.any():  # (most calls: before any broadcast, ~2 us)
        return None
    shape = _np.broadcast_shapes(*(_np.shape(t) for t in (a, b, x, y, value)))
    a, b, x, y, value, big = (_np.ravel(_np.broadcast_to(t, shape))
                              for t in (a, b, x, y, value, big))
    big = _np.flatnonzero(big)
    up = x[big] > 0.5
    idx = big[_np.where(up, y[big] > 0.0, (x[big] > 0.0) & (
        (value[big] >= 0.25) | _small_side_pair_ok(a[big], b[big], x[big])))]
    if not idx.size:
        return None
    up = x[idx] > 0.5
    pair = ~up & (value[idx] < 0.25)
    # (the complement's problem: I_v(p, q) = 1 - I_x(a, b), v the smaller of x and y; below
    # 1/4 under x = 1/2 betaincc(b, a, fl(1 - x)), see _small_side_pair_ok)
    p = _np.where(up | pair, b[idx], a[idx])
    q = _np.where(up | pair, a[idx], b[idx])
    v = _np.where(up, y[idx], _np.where(pair, 1.0 - x[idx], x[idx]))
    comp = bk.extra("betaincc")(p, q, v)
    new = _np.where(up | pair, comp, 1.0 - comp)
    if pair.any():
        new[pair] += _small_side_pair_shift(bk, a[idx][pair], b[idx][pair], x[idx][pair],
                                            v[pair])
    held = value[idx]
    differ = _np.flatnonzero(_np.abs(new - held) > _LARGE_SHAPES_AGREE * _np.abs(held))
    if differ.size and not _uses_generic(bk, "betaincc"):
        pd, qd, vd = p[differ], q[differ], v[differ]
        pair = _generic._betainc_pair(bk, pd, qd, vd, 1.0 - vd, _np.log(vd), _np.log1p(-vd),
                                      True)
        ref = _np.where(up[differ], pair[1], pair[0])
        keep = differ[_np.abs(held[differ] - ref) < _np.abs(new[differ] - ref)]
        new[keep] = held[keep]
    new = _np.where(new == new, new, held)
    out, take = value.copy(), _np.zeros(value.shape, bool)
    out[idx], take[idx] = new, True
    return out.reshape(shape), take.reshape(shape)


def _large_shapes_on_arrays(bk, a, b, x, y, value):
    """:func:`_large_shapes_on_numpy` in the array namespace of ``bk`` (every element
    computed, stand-ins at the others; no referee where betaincc is the generic one
    itself), or None where no element takes it."""
    xp = bk.xp
    ab = a + b
    big = (ab >= _LARGE_SHAPES) & (ab <= _LARGE_SHAPES_MAX)
    if not bool(bk.to_numpy(xp.any(big))):
        return None
    upper = x > 0.5
    pair = ~upper & (value < 0.25) & _small_side_pair_ok(a, b, x)
    take = big & xp.where(upper, y > 0.0, (x > 0.0) & ((value >= 0.25) | pair))
    if not bool(bk.to_numpy(xp.any(take))):
        return None
    one, half = xp.ones_like(a), xp.full_like(y, 0.5)
    swap = upper | pair
    p = xp.where(take, xp.where(swap, b, a), one)
    q = xp.where(take, xp.where(swap, a, b), one)
    v = xp.where(take, xp.where(upper, y, xp.where(pair, 1.0 - x, x)), half)
    comp = bk.extra("betaincc")(p, q, v)
    new = xp.where(swap, comp, 1.0 - comp)
    pair = take & pair
    if bool(bk.to_numpy(xp.any(pair))):
        new = new + _small_side_pair_shift(bk, xp.where(pair, a, one), xp.where(pair, b, one),
                                           xp.where(pair, x, half), xp.where(pair, v, half),
                                           pair)
    if not _uses_generic(bk, "betaincc"):
        differ = take & (xp.abs(new - value) > _LARGE_SHAPES_AGREE * xp.abs(value))
        if bool(bk.to_numpy(xp.any(differ))):
            v = xp.where(differ, v, half)
            pair = _generic._betainc_pair(bk, p, q, v, 1.0 - v, xp.log(v), xp.log1p(-v), True)
            ref = xp.where(upper, pair[1], pair[0])
            take = take & ~(differ & (xp.abs(value - ref) < xp.abs(new - ref)))
    take = take & (new == new)
    return xp.where(take, new, value), take


def _uses_generic_betainc(bk):
    """Whether backend ``bk``'s betainc is the generic one (torch, array-api-strict)."""
    return _uses_generic(bk, "betainc")


def _uses_generic(bk, name):
    """Whether backend ``bk``'s extra ``name`` is the generic one (torch, array-api-strict)."""
    fn = getattr(bk.extra(name), "__wrapped__", None)
    return getattr(fn, "func", None) is _generic.GENERIC[name]


def _inc_beta_generic_complement(out, a, b, y, use_sub):
    """``out`` (:func:`_inc_beta`'s, its derivatives kept) with the values of the
    subtraction ``1 - I_y(b, a)`` where ``use_sub`` takes it, ``b <= 1``, ``y <= (b + 1) /
    (a + b + 2)`` and ``b (|log y| + log(1 + a)) <= 1``, from the generic backend's power
    series of the complement (:func:`functrans.backends.generic._beta_small_complement`,
    no subtraction), on the
    backends whose betainc is the generic one: there ``I_y(b, a)`` at a small ``b`` is a few
    ulp off (its prefactor's ``lgamma`` terms), which the subtraction multiplies by ``I /
    (1 - I)`` (``_inc_beta(0.7, 2**-8 * 1.01, 1 - 1e-3, 1e-3)`` 6e-14 off on
    array-api-strict, 2e-16 on NumPy, whose SciPy betainc is exact there). Only where the
    operands are arrays (eager transforms, vmap; staged code at evaluation, see
    :func:`_inc_beta`), else ``out``."""
    from ..batching import BatchTracer
    if isinstance(b, (_np.ndarray, _np.generic)):  # (NumPy: SciPy's betainc)
        return out
    found = _lined_up((a, b, y, use_sub))
    if found is None or any(type(v) is bool for v in found[0]):
        return out
    (a, b, y, use_sub), interp = found
    bk = _backend_of(b)
    if not _uses_generic_betainc(bk):
        return out
    xp = bk.xp
    with _np.errstate(all="ignore"):
        # (b (|log y| + log(1 + a)) <= 1: the series' exponent b log y - log(b B(b, a))
        # subtracts terms of that size, ~eps each; at stdtr's huge df, b = 1/2, they are
        # 345 each and the series 4e-14 off)
        take = (use_sub & (b <= 1.0) & (y > 0.0) & (y <= (b + 1.0) / (a + b + 2.0))
                & (b * (xp.abs(xp.log(y)) + xp.log1p(a)) <= 1.0))
        if not bool(bk.to_numpy(xp.any(take))):
            return out
        ys = xp.where(take, y, xp.full_like(y, 0.25))
        value = _generic._beta_small_complement(
            bk, xp.where(take, b, xp.full_like(b, 0.5)), xp.where(take, a, xp.ones_like(a)),
            ys, xp.log(ys))
        take = take & (value == value)  # (a series not converged: nan, out kept)
    if interp is not None:
        value, take = BatchTracer(interp, value), BatchTracer(interp, take)
    # (the values only: the derivatives are out's)
    return fnp.where(take, fnp.add(value, fnp.subtract(out, fnp.stop_gradient(out))), out)


# _inc_beta's values at a tiny b from the series below, where b is at most _SMALL_B_MAX and
# max(1, |a - 1|) y at most _SMALL_B_Y_MAX: there I_x(a, b) is about b (log(1/y) - psi(a)
# - gamma), which the subtraction 1 - I_y(b, a) (and the direct form's shift, which holds
# the same cancellation) leaves with an error eps / I: f.cdf(1e12, 0.01, 1e-12) was 3.6e-5
# off, f.cdf(1e8, 3, 1e-8) 6.1e-10 (mpmath). The terms kept: log(b B(a, b))'s series in b
# to b^_SMALL_B_TERMS (the next below 2^-56 relative), the series in y to y^_SMALL_B_Y_TERMS
# (its ratio at most _SMALL_B_Y_MAX; the next below 2^-54 of the sum).
_SMALL_B_MAX = 2.0 ** -8
_SMALL_B_TERMS = 8
_SMALL_B_Y_MAX = 2.0 ** -6
_SMALL_B_Y_TERMS = 9


def _inc_beta_small_b_where(xp, a, b, y):
    """:func:`_inc_beta_small_b`'s elements (``y < 1/2`` of those ``x > 1/2``)."""
    spread = xp.maximum(xp.abs(a - 1.0), xp.ones_like(a))
    return (b <= _SMALL_B_MAX) & (y > 0.0) & (xp.multiply(spread, y) <= _SMALL_B_Y_MAX)


def _inc_beta_small_b(out, a, b, y):
    """``out`` (:func:`_inc_beta`'s ``I_x(a, b)``, its derivatives kept) with the values
    ``1 - I_y(b, a)`` from ``I_y(b, a) = y^b / (b B(a, b)) (1 + b T)``, ``T = sum_k>=1
    (1 - a)_k / k! y^k / (b + k)`` (the integral of ``t^(b-1) (1 - t)^(a-1)`` term by term):
    ``-expm1(L) - e^L b T``, ``L = b log y - log(b B(a, b))``, with ``log(b B(a, b)) =
    log1p(b / a) - sum_k>=1 (psi_(k-1)(1 + a) - psi_(k-1)(1)) b^k / k!`` (from
    ``log Gamma(1 + z + b) - log Gamma(1 + z)``'s Taylor series), each part of the size of
    the result. Only where ``a``, ``b`` and ``y`` (stopped) are arrays (eager transforms,
    vmap; staged code at evaluation, see :func:`_inc_beta`), else ``out``."""
    # (b alone first, without the namespace's functions: most calls end here, ~2 us where
    # the full selection took ~30)
    if isinstance(b, (_np.ndarray, _np.generic)):
        if not (b <= _SMALL_B_MAX).any():
            return out
    found = _lined_up((a, b, y))
    if found is None or any(type(v) is bool for v in found[0]):
        return out
    if not _may_hold(found[0][1] <= _SMALL_B_MAX):
        return out
    take = _on_arrays(_inc_beta_small_b_where, a, b, y)
    if not _may_hold(take):
        return out
    a, b, y = _where(take, a, 1.0), _where(take, b, _SMALL_B_MAX), _where(take, y, 2.0 ** -7)
    one = fnp.ones_like(a)
    log_bb = fnp.log1p(fnp.divide(b, a))
    power = one
    for k in range(1, _SMALL_B_TERMS + 1):
        power = fnp.multiply(power, fnp.divide(b, float(k)))  # b^k / k!
        diff = fnp.subtract(polygamma(k - 1, 1.0 + a), polygamma(k - 1, one))
        log_bb = fnp.subtract(log_bb, fnp.multiply(diff, power))
    term, series = one, fnp.zeros_like(a)
    for k in range(1, _SMALL_B_Y_TERMS + 1):
        # ((1 - a)_k / k! y^k as one product: the two apart overflow and underflow at a huge
        # a, f.cdf(0.5, 1e300, 1e-8)'s 5e299, whose a y is 1e-8: inf * 0 was nan)
        term = fnp.multiply(term, fnp.divide(fnp.multiply(float(k) - a, y), float(k)))
        series = fnp.add(series, fnp.divide(term, b + float(k)))
    log_front = fnp.subtract(fnp.multiply(b, fnp.log(y)), log_bb)
    value = fnp.subtract(fnp.negative(fnp.expm1(log_front)),
                         fnp.multiply(fnp.exp(log_front), fnp.multiply(b, series)))
    # (the values only: the derivatives are out's)
    return fnp.where(take, fnp.add(value, fnp.subtract(out, fnp.stop_gradient(out))), out)


_SUB_LOSS = 64.0  # (the subtraction unless it loses 6 bits more than the direct form)


def _inc_beta_takes_complement(xp, c, shift, x, y, a):
    """:func:`_inc_beta`'s choice (``x > 1/2`` selected by the caller): the subtraction
    unless its error ``eps c`` is above ``_SUB_LOSS`` times the direct form's,
    ``eps (1 - c)`` plus the shift's ``|shift| |a - 1| |d| / x``. (Where both are near
    rounding either serves: the margin keeps the subtraction there, as before, whose
    derivatives cost less; taking the direct form wherever it errs less made some
    elements of a batch differ in form, and cost 14 % more primitives in
    vmap(grad(t.cdf)).)"""
    d = xp.abs(xp.subtract(1.0 - x, y))
    shift_err = xp.divide(xp.multiply(xp.multiply(xp.abs(shift), xp.abs(a - 1.0)), d), x)
    return c < _SUB_LOSS * xp.add(1.0 - c, shift_err / _EPS64)


def _inc_beta_shift(xp, moved, log_xslope, x, y, b):
    """:func:`_inc_beta`'s ``x^(a-1) ((1 - x)^b - y^b) / (b B(a, b))`` where ``moved``, 0
    elsewhere (``log_xslope`` = ``log(x I'_x)``), in the namespace ``xp``."""
    one = xp.ones_like(y)
    b = xp.where(moved, b, one)
    t = xp.multiply(b, xp.log1p(xp.divide(xp.subtract(1.0 - x, y), y)))
    # (where expm1(t) overflows, in logarithms: the slope's underflow times it was 0 * inf,
    # nan at f.cdf(1e30, 1e-8, 1e8), true 1)
    huge = t > 700.0
    ratio = xp.expm1(xp.where(huge, xp.zeros_like(t), t))
    shift = xp.multiply(xp.divide(xp.multiply(xp.exp(log_xslope), y), xp.multiply(x, b)),
                        ratio)
    shift = xp.where(huge, xp.exp(log_xslope + t + xp.log(y) - xp.log(xp.multiply(x, b))),
                     shift)
    # (nothing to move where d = 0: also where the slope overflowed, inf * 0)
    return xp.where(xp.logical_and(moved, (ratio != 0.0) | huge), shift, xp.zeros_like(shift))


def _on_arrays(fn, *args):
    """``fn(xp, *args)`` for values without derivatives: on the arrays behind them, in
    their backend's namespace (no primitive bound), where :func:`_lined_up` finds them,
    else on functrans.numpy. Same bits."""
    from ..batching import BatchTracer
    found = _lined_up(args)
    if found is None or any(type(v) is bool for v in found[0]):
        return fn(fnp, *args)
    arrays, interp = found
    bk = _backend_of(next(v for v in arrays if v.ndim >= 0))
    with _np.errstate(all="ignore"):
        out = fn(bk.xp, *arrays)
    return out if interp is None else BatchTracer(interp, out)


def _beta_cdf_edges(a, b, x, y, lower):
    """``I_x(a, b)`` (``lower``) or its complement ``I_y(b, a)`` with betainc's values at the
    edges of its domain (SciPy's), ``y = 1 - x`` given precisely."""
    bad = _any(a < 0.0, b < 0.0, x < 0.0, x > 1.0, _all(a == 0.0, b == 0.0),
               _all(a == _inf, b == _inf), a != a, b != b, x != x, y != y)
    inner = _all(a > 0.0, b > 0.0, a < _inf, b < _inf)
    to_one = _any(_all(x == 1.0, fnp.logical_not(inner)),
                  _all(_any(a == 0.0, b == _inf), x != 0.0))
    to_zero = _any(_all(x == 0.0, fnp.logical_not(inner)), b == 0.0, a == _inf)
    ok = fnp.logical_not(_any(bad, to_one, to_zero))
    a_s, b_s = _where(ok, a, 1.0), _where(ok, b, 1.0)
    x_s, y_s = _where(ok, x, 0.5), _where(ok, y, 0.5)
    out = _inc_beta(a_s, b_s, x_s, y_s) if lower else _inc_beta(b_s, a_s, y_s, x_s)
    hi, lo = (1.0, 0.0) if lower else (0.0, 1.0)
    out = _where(to_one, hi, _where(to_zero, lo, out))
    return _where(bad, math.nan, out)


def betaincc(a, b, x, /):
    """The complement of the regularized incomplete beta function, ``1 - I_x(a, b)``, for
    ``a, b >= 0`` and ``0 <= x <= 1``, computed without the subtraction where the result is
    small (as ``I_(1-x)(b, a)`` where ``x > 1/2``; the subtraction elsewhere, where it is
    exact enough).

    As SciPy: 1 at ``x = 0`` and 0 at ``x = 1``, and the complements of :func:`betainc`'s
    values at the edges (nan at the same places). Derivatives: minus betainc's (in ``x``
    exactly, in ``a`` and ``b`` to third order). float32 only for float32 (or small integer)
    operands, computed in float64."""
    def f(a, b, x):
        return _beta_cdf_edges(a, b, x, 1.0 - x, False)
    return _weak64("betaincc", (a, b, x), f)


def _t_density_at_0(d):
    """The Student t density at 0, ``Gamma((d + 1)/2) / (sqrt(d pi) Gamma(d/2))``; below
    d = 1 as ``sqrt(d) Gamma((d + 1)/2) / (2 sqrt(pi) Gamma(d/2 + 1))``: d / 2 underflowed
    to 0 at d = 5e-324 (lgamma(0) = inf: the density 0, not 1.1e-162, its slope in d nan
    where it is 1 / (4 sqrt(d)), and stdtr's slope in df at t = 0, 0, nan)."""
    small = d < 1.0
    dl, ds = _where(small, 1.0, d), _where(small, d, 0.5)
    large = fnp.exp(fnp.subtract(fnp.subtract(_sp.lgamma(0.5 * dl + 0.5), _sp.lgamma(0.5 * dl)),
                                 0.5 * fnp.log(dl * math.pi)))
    near_0 = fnp.multiply(fnp.sqrt(ds), fnp.exp(fnp.subtract(fnp.subtract(
        _sp.lgamma(0.5 * ds + 0.5), _sp.lgamma(0.5 * ds + 1.0)), _LOG_2_SQRT_PI)))
    return _where(small, near_0, large)


_LOG_2_SQRT_PI = math.log(2.0 * math.sqrt(math.pi))


# -- Student's t: the derivative in df at a large df, without the cancellation ---------------
# The tail T = P(T_df < -|t|) = I_x(a, 1/2) / 2 (a = df/2, x = df / (df + t^2)) moves with df
# through a (at a fixed x) and through x; the two parts are O(1/df) and cancel to O(1/df^2),
# losing ~df eps (t.cdf's derivative in df at (-6, 1e6) was 6.5e-8 off, 1.2e-3 at 1e8). In
# the integral of the density's log-derivative, h = (psi(a + 1/2) - psi(a) - 1/df + Y/df -
# lambda(Y)) / 2 with Y = s^2 / (df + s^2) and lambda(Y) = -log(1 - Y) - Y = sum_k Y^k / k
# (k >= 2), every term is O(1/df^2) itself, and E[Y^k; tail] = R_k I_x(a, 1/2 + k) / 2
# (R_k = B(a, 1/2 + k) / B(a, 1/2)) come from T by the recurrence I_x(a, b + 1) = I_x(a, b) +
# x^a y^b / (b B(a, b)), each step adding a positive term (below T's median half; above it the
# complement's, Y < y, from I_y(1/2, a) down). The series in Y converges as y^k: used where
# y <= _T_SERIES_Y, for df >= _T_SERIES_DF (below, the plain form's loss is under 1e-13).
# The slopes (this one, the t slope from the density, and the quantile's) are those of the
# primitive t_fix (functrans.primitives.special), computed at evaluation on the arrays with
# the number of terms their values need, eagerly and in staged code alike: staged, the
# series itself (45 terms at y = 0.2, ~12 operations each) would add ~540 equations to
# jit(grad(t.cdf))'s 760 on every call, where t_fix adds ~10. (Until session 41 jit kept
# the plain form: relative 2e-11 at (t, df) = (-2, 1e4), 6.5e-8 at (-6, 1e6), 1.2e-3 at
# (-6, 1e8), 2.5e-4 at (-3, 1e10), 1.3e-3 at (2.5, 1e12); the t slope 2.1e-9 at (-6, 1e8).)
_T_SERIES_DF = 100.0
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_T_LOG1P_TERMS = 27
_T_SERIES_Y = 0.2


def _half_digamma_step_coefficients():
    # psi(a + 1/2) - psi(a) - 1/(2a) = sum_k (B_2k / k) (1 - 4^-k) a^-2k (from Legendre's
    # duplication psi(a + 1/2) = 2 psi(2a) - psi(a) - 2 log 2 and psi's asymptotic series)
    from fractions import Fraction
    b2k = (Fraction(1, 6), Fraction(-1, 30), Fraction(1, 42), Fraction(-1, 30),
           Fraction(5, 66), Fraction(-691, 2730), Fraction(7, 6))
    return tuple(float(b / k * (1 - Fraction(1, 4 ** k))) for k, b in enumerate(b2k, 1))


_HALF_DIGAMMA_STEP = _half_digamma_step_coefficients()


def _t_front(xp, d, t):
    """``(a, y, p0)`` at df ``d >= 50`` and ``t != 0``: ``a = d/2``, ``y = t^2 / (d + t^2)``
    and ``P_0 = y^(1/2) x^a / (B(1/2, a) / 2)`` (``x = 1 - y``), which is ``2 |t|`` times
    the density at ``t``: from the density's logarithm, ``log(Gamma(a + 1/2) / (Gamma(a)
    sqrt(d pi))) - (d + 1)/2 log1p(u)`` (``u = t^2 / d``), written ``-log(2 pi)/2 - g(a)/a -
    log1p(u)/2 - (t^2/2) L(u)`` (``g`` from the ratio's asymptotic series, ``L(u) =
    log1p(u) / u``), whose terms' derivatives in df are each O(1/df^2) as their sum is (in
    the plain form they cancel from O(1/df): d/d df of the t slope at (2.5, 1e12) was 9e-5
    off). On functrans.numpy (the derivatives) ``L`` by its power series, whose derivative
    keeps that; on arrays ``log1p(u) / u``. Within an ulp or two (_log_beta_front's
    deviance form was ~30 off: the t slope at (-6, 1e6) 5.9e-15)."""
    a = 0.5 * d
    u = (t * t) / d
    inv_a2 = 1.0 / (a * a)
    g = 0.125 - inv_a2 * (1.0 / 192.0 - inv_a2 * (1.0 / 640.0 - inv_a2 * (17.0 / 14336.0)))
    if xp is fnp:
        # (u <= 1/4 in the region: the terms fall below 2^-56 of the first by the 27th)
        ratio = None
        for k in range(_T_LOG1P_TERMS, 0, -1):
            ratio = 1.0 / k if ratio is None else 1.0 / k - u * ratio
    else:
        ratio = xp.log1p(u) / u
    log_f = ((-_HALF_LOG_2PI - g / a) - 0.5 * xp.log1p(u)) - (0.5 * (t * t)) * ratio
    y = xp.exp(-xp.log1p(1.0 / u))
    return a, y, (2.0 * xp.abs(t)) * xp.exp(log_f)


def _t_tail_df_slope(xp, d, t, tail, terms, betainc):
    """``(dT/d df, P_0)``: the derivative of the tail ``T = P(T_df < -|t|)`` (= ``tail``) for
    ``df >= 100``, ``t != 0`` finite, ``y = t^2 / (df + t^2) <= 0.2``, by the series above
    with ``terms`` terms, in namespace ``xp`` with ``betainc`` (a backend's arrays, or
    functrans.numpy: differentiable), and :func:`_t_front`'s ``P_0``."""
    a, y, p0 = _t_front(xp, d, t)
    p = p0
    inv_a2 = 1.0 / (a * a)
    dpsi = None
    for c in reversed(_HALF_DIGAMMA_STEP):
        dpsi = (c if dpsi is None else dpsi + c) * inv_a2
    # (below T = 1/4 upward from I_0 = 2T; above, the complement's J_0 = I_y(1/2, a) down:
    # each on its own elements)
    up = tail < 0.25
    v0 = 2.0 * tail
    if (xp is not _np and xp is not fnp) or _may_hold(xp.logical_not(up)):
        comp = betainc(xp.full_like(a, 0.5), a, xp.where(up, xp.full_like(y, 0.25), y))
        v0 = xp.where(up, v0, comp)
    one = xp.ones_like(a)
    sign = xp.where(up, one, -one)
    r1 = 1.0 / (d + 1.0)
    v1 = v0 + sign * p
    p = ((p * y) * (a + 0.5)) / 1.5
    v, rk, total = v1, r1, None
    for k in range(2, terms + 1):
        v = v + sign * p
        p = ((p * y) * (a + (k - 0.5))) / (k + 0.5)
        rk = (rk * (k - 0.5)) / (a + (k - 0.5))
        term = (rk * v) / k
        total = term if total is None else total + term
    inner = (dpsi * v0 + (r1 * v1) / d) - total
    return (0.25 * sign) * inner, p0


def _t_part(xp, part, d, u, v, terms, betainc):
    """The primitive t_fix's slope ``part`` (see functrans.primitives.special) at df ``d``
    inside the series' region, in namespace ``xp``."""
    t = u if part.startswith("tail") else v
    lower = t < 0.0
    if part == "tail_t":  # (dT/dt = -sign(t) times the density P_0 / (2 |t|))
        f = _t_front(xp, d, t)[-1] / (2.0 * xp.abs(t))
        return xp.where(lower, f, -f)
    if part == "quantile_q":  # (1 / the density)
        return (2.0 * xp.abs(t)) / _t_front(xp, d, t)[-1]
    # (the quantile's tail beyond |t|: q or 1 - q, exact; the cdf's df slope is the tail's,
    # negated above the median)
    tail = v if part == "tail_d" else xp.where(lower, u, 1.0 - u)
    slope, p0 = _t_tail_df_slope(xp, d, t, tail, terms, betainc)
    if part == "tail_d":
        return slope
    return xp.where(lower, -slope, slope) / (p0 / (2.0 * xp.abs(t)))


_T_SERIES_MAX_TERMS = []  # (the series' largest count in its region: y = 0.2 at df = 100)


def _t_fix_on_arrays(bk, part, d, u, v, wrt):
    """The primitive t_fix's slope ``part`` (:func:`_t_part`, on the arrays in their
    namespace) or its partial derivatives in the operands ``wrt`` names (0: d, 1: u, 2: v;
    by nested forward mode on functrans.numpy) inside the series' region, 0 outside; or
    (``part`` "tail_region", "quantile_region") the region. The terms are those the values
    need, from the region's largest y and smallest df read on the host on NumPy (and no
    series where no element is in the region; the same for the arrays of other libraries
    on the CPU); elsewhere (a read would wait for the device) the region's largest count."""
    if not _T_SERIES_MAX_TERMS:
        _T_SERIES_MAX_TERMS.append(_t_series_terms(_T_SERIES_Y, 0.5 * _T_SERIES_DF))
    on_numpy = isinstance(d, (_np.ndarray, _np.generic))
    xp = _np if on_numpy else bk.xp
    t = u if part.startswith("tail") else v
    with _np.errstate(all="ignore"):
        t2 = t * t
        y = t2 / (d + t2)
        region = (d >= _T_SERIES_DF) & (d < _inf) & (t != 0.0) & (y <= _T_SERIES_Y)
    if part.endswith("_region"):
        return region
    zero = xp.zeros_like(d)
    if _read_on_host(d):
        r, yr, dr = (_np.asarray(bk.to_numpy(v)) for v in (region, y, d))
        if not r.any():
            return zero
        terms = _t_series_terms(float(_np.max(_np.where(r, yr, 0.0))),
                                0.5 * float(_np.min(_np.where(r, dr, _inf))))
    else:
        terms = _T_SERIES_MAX_TERMS[0]
    # (stand-ins inside the region elsewhere: finite, unused)
    stand_u, stand_v = (-1.0, 0.25) if part.startswith("tail") else (0.3, -1.0)
    d = xp.where(region, d, xp.full_like(d, 1e3))
    u = xp.where(region, u, xp.full_like(u, stand_u))
    v = xp.where(region, v, xp.full_like(v, stand_v))
    with _np.errstate(all="ignore"):
        if not wrt:
            out = _t_part(xp, part, d, u, v, terms, bk.extra("betainc"))
        else:
            out = _t_part_partial(bk, part, d, u, v, terms, wrt)
    return xp.where(region, out, zero)


def _t_part_partial(bk, part, d, u, v, terms, wrt):
    """:func:`_t_part`'s partial derivatives in the operands ``wrt`` names (every operand
    a tracer: the operators of some libraries' arrays refuse tracers)."""
    return _partials_by_jvp(bk, lambda *ops: _t_part(fnp, part, *ops, terms, _sp.betainc),
                            (d, u, v), wrt, all_traced=True)


def _partials_by_jvp(bk, fn, ops, wrt, all_traced=False):
    """The partial derivatives of the elementwise ``fn`` at the arrays ``ops`` (of backend
    ``bk``) in the operands ``wrt`` names (indices, in turn), by nested forward mode, each
    with a unit tangent: of that operand alone (the others constants), or with
    ``all_traced`` of every operand (zero tangents for the others)."""
    from ..api import jvp
    ones, zeros = bk.xp.ones_like(ops[0]), bk.xp.zeros_like(ops[0])
    n = len(ops)

    def partial(fn, i):
        def g(*ops):
            if all_traced:
                return jvp(fn, ops, tuple(ones if j == i else zeros for j in range(n)))[1]
            return jvp(lambda w: fn(*ops[:i], w, *ops[i + 1:]), (ops[i],), (ones,))[1]
        return g
    for i in wrt:
        fn = partial(fn, i)
    return bk.xp.asarray(fn(*ops))


# (whether reading an array on the host waits for no device: one test, the primitives')
_read_on_host = _sp._on_host


_BETA_NEAR_ONE = 15.0 / 16.0  # (stats.beta.ppf's complement form above it)


def _beta_ppf_fix_on_arrays(bk, slope, a, b, q, x, wrt):
    """The primitive beta_ppf_fix's slope of the quantile ``x`` in ``(a, b, q)[slope]`` (or
    its partial derivatives in the operands ``wrt`` names) where ``x > 15/16`` and ``q >=
    1/4``, from ``1 - betaincinv(b, a, 1 - q)``, whose root ``w = 1 - x`` is not rounded to
    x's ulp (the derivatives at the rounded x, ``x^(a-1) (1 - x)^(b-1)``, were 2e-4 off at
    ``(1 - 1e-9, 5, 0.7)``), 0 elsewhere; or (``slope`` "region") that region. By forward
    mode on the arrays, only where some element is in the region (read on the host, for
    arrays on the CPU; on NumPy the region's elements only; elsewhere a read would wait
    for the device: all)."""
    on_numpy = isinstance(x, (_np.ndarray, _np.generic))
    xp = _np if on_numpy else bk.xp
    with _np.errstate(all="ignore"):
        region = ((x > _BETA_NEAR_ONE) & (q >= 0.25) & (q < 1.0) & (a > 0.0) & (b > 0.0)
                  & (a < _inf) & (b < _inf))
    if slope == "region":
        return region
    zero = xp.zeros_like(x)

    def fn(a, b, q):
        return 1.0 - _sp.betaincinv(b, a, 1.0 - q)
    order = (slope,) + tuple(wrt)
    if on_numpy:  # (the region's elements only)
        if not region.any():
            return zero
        if region.all():
            with _np.errstate(all="ignore"):
                return _partials_by_jvp(bk, fn, (a, b, q), order)
        out = _np.zeros(_np.shape(x), dtype=x.dtype)
        with _np.errstate(all="ignore"):
            out[region] = _partials_by_jvp(bk, fn, (a[region], b[region], q[region]), order)
        return out
    if _read_on_host(x) and not bool(bk.to_numpy(xp.any(region))):
        return zero
    # (stand-ins elsewhere: a root of 1/2, finite slopes, unused)
    two = xp.full_like(a, 2.0)
    a, b = xp.where(region, a, two), xp.where(region, b, two)
    q = xp.where(region, q, xp.full_like(q, 0.5))
    return xp.where(region, _partials_by_jvp(bk, fn, (a, b, q), order), zero)


def _t_fix_operands(*vals):
    """``vals`` broadcast to one shape (the primitive t_fix is shape-strict)."""
    shape = fnp.broadcast_shapes(*(v.shape for v in vals))
    return tuple(v if v.shape == shape else fnp.broadcast_to(v, shape) for v in vals)


def _t_fix_needed(d, t):
    """Whether the primitive t_fix is needed: a derivative flows and some df may be in
    the series' region (read from df's array where it is known; no primitive bound)."""
    from .stats import _carries_derivative
    if not _carries_derivative((d, t))[0]:
        return False
    dc = _concrete_behind(d)
    return dc is None or _may_hold(dc >= _T_SERIES_DF)


def _t_series_terms(y, a):
    """The terms :func:`_t_tail_df_slope` needs: its k-th is below ``R_k = E[Y^k]`` (the
    moments of Beta(1/2, a), ~ k! / a^k) and, in the tail, ~ ``y^k T``; the sum is
    O(R_2 T): until both the y^k decay (y doubled, for the spread beyond y) and R_k / R_2
    are below 1e-17 (t.cdf(0.7, 150)'s df slope with y's count alone, 9 terms, was 4.7e-10
    off; 24 there)."""
    by_y = 2 + int(math.ceil(39.2 / -math.log(min(max(2.0 * y, 1e-300), 0.5))))
    k, ratio = 2, 1.0
    while ratio > 1e-17 and k < 200:
        ratio *= (k + 0.5) / (a + k + 0.5)
        k += 1
    return max(by_y, k, 3)


def _t_outside_series(d, t, *values):
    """``values`` (``d`` and ``t`` where none) without derivatives inside t_fix's series
    region at ``d``, ``t`` (the primitive's own test, here on functrans.numpy: the same
    bits, nothing read), as they are outside."""
    with _np.errstate(all="ignore"):
        t2 = fnp.multiply(t, t)
        y = fnp.divide(t2, fnp.add(d, t2))
        region = _all(d >= _T_SERIES_DF, d < _inf, t != 0.0, y <= _T_SERIES_Y)
    known = _concrete_behind(region)
    if known is True or (isinstance(known, (_np.ndarray, _np.generic)) and bool(known.all())):
        # (every element there, values known on the host: no derivative work at all, where
        # the betainc form's at df 1e20 made hessian(t.cdf)(-8, 1e20) take ~17 s)
        return tuple(fnp.stop_gradient(v) for v in (values or (d, t)))
    return tuple(fnp.where(region, fnp.stop_gradient(v), v) for v in (values or (d, t)))


def _t_outside_region(d, t, also):
    """Where t_fix's series region (see :func:`_t_outside_series`) and ``also`` hold (no
    derivative)."""
    with _np.errstate(all="ignore"):
        d, t = fnp.stop_gradient(d), fnp.stop_gradient(t)
        t2 = fnp.multiply(t, t)
        y = fnp.divide(t2, fnp.add(d, t2))
        return _all(d >= _T_SERIES_DF, d < _inf, t != 0.0, y <= _T_SERIES_Y, also)


def _t_tail_accurate(d, t, tail):
    """``tail`` (T at ``t``, df ``d``) with the series' derivatives where they apply (see
    above), the plain ones elsewhere."""
    if not _t_fix_needed(d, t):
        return tail
    return _sp.t_fix(*_t_fix_operands(d, t, tail), part="tail")


def _t_quantile_accurate(q, d, t, also):
    """t's quantile ``t`` (at ``q``, df ``d``) with the series' derivatives where they
    apply (and ``also``), the plain ones elsewhere."""
    if not _t_fix_needed(d, t) or not _may_hold(also):
        return t
    return _where(also, _sp.t_fix(*_t_fix_operands(d, q, t), part="quantile"), t)


def stdtr(df, t, /):
    """The cumulative distribution function of Student's t distribution with ``df > 0``
    degrees of freedom, ``P(T <= t)``.

    The tail ``P(T > |t|) = I_x(df/2, 1/2) / 2``, ``x = df / (df + t**2)``, is computed with
    both ``x`` and ``1 - x = t**2 / (df + t**2)`` (so accurate for small ``|t|`` and in the
    lower tail); ``ndtr(t)`` for ``df = inf``. As SciPy: nan for ``df <= 0`` and nan; 0 and
    1 at ``t = -inf`` and ``inf``. Derivatives in ``t`` (the density, any order) and ``df``
    (to third order, through betainc's shape derivatives); at ``t = 0`` exactly the value
    1/2 carries the slope of the density there. From ``df = 100`` (``t**2 <= df/4``) the
    derivative in ``df`` comes from a series free of the cancellation of betainc's shape
    slope against ``x``'s (~``df`` eps: 6.5e-8 at (1e6, -6)), and the one in ``t`` from
    the density (the primitive's slope at the rounded ``x`` loses ``df/2`` eps), under jit
    too (computed at evaluation). Above ``df = 1e10`` the values come from the generic
    incomplete beta function's methods with ``x`` and ``1 - x`` unrounded (the backend's at
    the rounded ``x`` gave 1/2 for ``stdtr(1e20, -30)``, true 4.9e-198)."""
    def f(df, t):
        # (no floating-point warnings from t^2's overflow and the choices' stand-ins, which
        # the selections drop: stdtr(3, 1e300) = 1 warned)
        with _np.errstate(all="ignore"):
            return g(df, t)

    def g(df, t):
        bad = _any(df <= 0.0, df != df, t != t)
        inf = df == _inf
        d = _where(_any(bad, inf), 1.0, df)
        at0 = t == 0.0
        ts = _where(_any(at0, bad), 1.0, t)
        # (x = df / (df + t^2) below 1e-300 (t^2 overflowed, or x underflowed to 0): the tail
        # x^a / (a B(a, 1/2)) / 2 with log x = log df - 2 log|t|, which is 1/2 where df is
        # tiny (stdtr(5e-324, 3.8) was 1, stdtr(1e-3, 1e160) 1: SciPy's too; mpmath 1/2 and
        # 0.656); the other forms see t = 2 there (their slopes: no 0 * inf)
        far_any = _t_far_may_hold(d, ts)
        t_in = ts
        d_in = d
        if far_any:
            t2_all = fnp.multiply(ts, ts)
            far = _any(t2_all == _inf, fnp.multiply(d, 1e300) < fnp.add(d, t2_all))
            ts = _where(far, 2.0, ts)
            # (and df = 1: at a tiny df their shape slopes are inf, which met the zero
            # cotangent there in reverse mode: grad in df at (5e-324, 3) was nan, warned)
            d = _where(far, 1.0, d)
        # (inside t_fix's region the tail's derivatives are the series', the plain form's
        # get a zero cotangent there: its operands without derivatives there, so that its
        # infinite partials (betainc's at df 1e20) give no 0 * inf, nan, in reverse mode)
        series = _t_fix_needed(d, ts)
        dp, tp = (d, ts) if not series else _t_outside_series(d, ts)
        t2 = fnp.multiply(tp, tp)
        big = t2 == _inf
        t2s = _where(big, 1.0, t2)
        s = fnp.add(dp, t2s)
        # (I_x(df/2, 1/2) is F's sf at t^2 with 1 and df degrees of freedom: above
        # _T_PAIR_DF its values from F's generic methods, whose x and 1 - x are not rounded
        # (the backend's betainc at the rounded x, x's rounding taken back to first order,
        # lost ~df eps: stdtr(1e20, -30) was 1/2, true 4.9e-198; stdtr(1e16, 8) 2 % off,
        # stdtr(1e12, -30) 1.6e-10), with its derivatives
        pair = d > _T_PAIR_DF
        if not series or not _may_hold(pair):
            i_x = _inc_beta(0.5 * dp, fnp.full_like(d, 0.5), fnp.divide(dp, s),
                            fnp.divide(t2s, s))
        else:
            # (above _T_PAIR_DF inside the series' region the plain form's value is
            # f_extreme_fix's and its derivatives the series': its operands there a stand-in,
            # (df, t^2) = (1, 1). At the real ones its derivative work, discarded, ran
            # betainc's shape slopes at df/2 ~ 5e19 to their step limit at evaluation:
            # jit(hessian(t.cdf))(-8., 1e20) took 4-13 s, from df ~1e17 on; session 46)
            held = _t_outside_region(d, ts, pair)
            dh, th = _where(held, 1.0, dp), _where(held, 1.0, t2s)
            sh = fnp.add(dh, th)
            i_x = _inc_beta(0.5 * dh, fnp.full_like(d, 0.5), fnp.divide(dh, sh),
                            fnp.divide(th, sh))
        if _may_hold(pair):
            i_x = _f_extreme_fix(i_x, fnp.ones_like(d), dp, t2s, True, _T_PAIR_DF)
        if series:  # (and its value without them: their zero tangents times its infinite
            # partials, nan, in forward mode)
            i_x = _t_outside_series(d, ts, i_x)[0]
        tail = 0.5 * i_x
        tail = _t_tail_accurate(d, ts, tail)
        tail = _where(big, 0.0, tail)
        if far_any:
            tail = _where(far, _t_far_tail(_where(far, d_in, 1.0), _where(far, t_in, 2.0)), tail)
            ts, d = t_in, d_in
        out = _where(ts < 0.0, tail, 1.0 - tail)
        # at t = 0: 1/2, with the density's slope (the tail's slope there is inf * 0); its
        # two lgamma only where some t may be 0 (t.logcdf of 1e5 points: ~8 % of its time)
        if _may_hold(at0):
            # (its df elsewhere 1: the density's slope in a subnormal df is -inf, which met
            # the zero cotangent there, nan in jit(vmap(grad)) at (5e-324, 3))
            out = _where(at0, fnp.add(0.5, fnp.multiply(t, _t_density_at_0(
                _where(at0, d, 1.0)))), out)
        if _may_hold(inf):  # (ndtr only where some df may be inf: ~5 % of t.logcdf's time)
            out = _where(inf, ndtr(_where(bad, 0.0, t)), out)
        return _where(bad, math.nan, out)
    return _weak64("stdtr", (df, t), f)


def _t_far_may_hold(df, t):
    """Whether x = df / (df + t^2) may be below 1e-300 somewhere: from the concrete values
    behind the tracers by NumPy (a few us; the same test as functrans operations cost
    stdtr of 100 elements ~15 %), True where staged."""
    dv, tv = _concrete_behind(df), _concrete_behind(t)
    if not (isinstance(dv, (_np.ndarray, _np.generic, float))
            and isinstance(tv, (_np.ndarray, _np.generic, float))):
        return True
    with _np.errstate(all="ignore"):
        return bool(_np.any(_np.multiply(dv, 1e300) < _np.add(dv, _np.multiply(tv, tv))))


def _t_far_tail(df, t):
    """P(T > |t|) where x = df / (df + t^2) < 1e-300: x^a / (2 a B(a, 1/2)), a = df / 2 (the
    series' next term x a / (2 (a + 1)) below 1e-300; x as df / t^2), in logarithms."""
    a = 0.5 * df
    # (a log x = xlogy(df, df) / 2 - df log|t|: the slope of df log df in reverse mode
    # without 1/df, which overflows for a subnormal df; log(a B(a, 1/2)) as lgamma(a + 1) +
    # lgamma(1/2) - lgamma(a + 1/2): its slope without the 1/a - 1/a of log(a) + betaln's,
    # and 0 at a = 0: lgamma(1/2) the backend's own, so that it cancels where a + 1/2 rounds
    # to 1/2; math.lgamma's is an ulp from SciPy's: stdtr(1e-310, 3) was 0.5 + 2.2e-16)
    a_log_x = fnp.subtract(0.5 * xlogy(df, df), fnp.multiply(df, fnp.log(fnp.abs(t))))
    log_ab = fnp.subtract(gammaln(fnp.add(a, 1.0)), fnp.subtract(
        gammaln(fnp.add(a, 0.5)), gammaln(fnp.full_like(a, 0.5))))
    return 0.5 * fnp.exp(fnp.subtract(a_log_x, log_ab))


def stdtrit(df, p, /):
    """The inverse of :func:`stdtr` in ``t``: the ``t`` with ``stdtr(df, t) = p``, for
    ``df > 0`` and ``0 <= p <= 1``.

    ``-inf`` at ``p = 0`` (SciPy gives ``+inf`` there, and ``inf`` for some tiny ``p`` where
    the quantile is finite: ``stdtrit(3, 1e-300)`` is ``-1.03e100``), ``inf`` at 1; nan for
    ``df <= 0``, ``p`` outside [0, 1] and nan; ``ndtri(p)`` for ``df = inf``. Computed as
    :func:`functrans.scipy.stats.t`'s ``ppf`` (through ``betaincinv``; see there):
    differentiable in ``p`` (any order) and ``df`` (to third order). For ``p < 1e-300``
    where ``x = df / (df + t^2) <= 0.3`` (df below about 2000) the left tail's series
    ``I_x(df/2, 1/2) = 2p`` solved by Newton's method in ``log x`` (within ~``|log t|`` ulps
    of mpmath, derivatives of any order; ``-inf`` past the largest float, slopes ``+inf``):
    before session 56 nan at ``stdtrit(0.079, 5e-324)`` (SciPy ``-1.9e153``; the true
    ``-6.8e4087``), 56 % off at ``(30, 5e-324)``. Above df ~ 2000 (to 1e7) t.ppf refined by
    Newton's method on ``t.logcdf(t) = log p``, derivatives by the implicit function theorem
    (before session 57 1.7 % off at ``(2000, 5e-324)``)."""
    from . import stats as _stats

    def f(df, p):
        bad = _any(df <= 0.0, df != df, p < 0.0, p > 1.0, p != p)
        d = _where(bad, 1.0, df)
        pv = _concrete_behind(p)   # (a look at the values by NumPy: its cost, not 6 operations')
        if isinstance(pv, (_np.ndarray, _np.generic, float)) and not _np.any(
                (pv > 0.0) & (pv < _STDTRIT_TAIL_P)):
            return _where(bad, math.nan, _stats.t.ppf(_where(bad, 0.5, p), d))
        tiny = _all(fnp.logical_not(bad), p > 0.0, p < _STDTRIT_TAIL_P, d < _inf)
        if _known_none(tiny):
            return _where(bad, math.nan, _stats.t.ppf(_where(bad, 0.5, p), d))
        # (the far left tail, p below 1e-300 where df is small enough: the series; t.ppf
        # sees 0.5 there, whose derivatives meet no infinite residual)
        a = 0.5 * d
        lead = fnp.add(fnp.add(fnp.log(_where(tiny, p, 1.0)), fnp.log(d)), betaln(a, 0.5))
        tail = _all(tiny, fnp.divide(lead, a) <= _STDTRIT_TAIL_LOG_X)
        # (the rest of the tiny p below df 1e7: Newton's method in log p from the series'
        # first term, x = exp(L / a), whose log S(x) / a is small there)
        near = _all(tiny, fnp.logical_not(tail), d < _STDTRIT_REFINE_DF)
        out = _stats.t.ppf(_where(_any(bad, tail, near), 0.5, p), d)
        ta, tl = _where(tail, a, 1.0), _where(tail, lead, -1.0)
        # (|t| past the largest float: x below e^-1400, S(x) = 1, u = L / a)
        over = fnp.multiply(0.5, fnp.subtract(fnp.log(fnp.multiply(ta, 2.0)),
                                              fnp.divide(tl, ta))) > 709.0
        far = _stdtrit_far_left(ta, _where(over, fnp.negative(ta), tl))
        if not _known_none(over):
            far = _where(over, _stdtrit_overflowed(p, d), far)
        out = _where(tail, far, out)
        if not _known_none(near):
            from ..batching import BatchTracer
            if _concrete_behind(near) is not None or isinstance(near, BatchTracer):
                out = _stdtrit_refine_near(out, near, a, lead, p, d)
            else:
                # (staged, jit's: by cond, the refinement runs only where some p needs it,
                # not on every call: jit(stdtrit) of 1000 ordinary p 2.8 -> 10 ms; not
                # under vmap, where cond runs both branches on every member, and the
                # derivatives of the members that do not take one met 0 / 0, a warning)
                from ..control_flow import cond
                out = cond(fnp.any(near), _stdtrit_refine_near, lambda out, *_: out,
                           out, near, a, lead, p, d)
        return _where(bad, math.nan, out)
    return _weak64("stdtrit", (df, p), f)


# stdtrit at p below 1e-300 where the far left tail's series does not reach (x > 0.3, df above
# ~2000, below 1e7): t.ppf's betaincinv solves I_x(a, 1/2) = 2 p in p itself, where a subnormal p has a
# few bits (stdtrit(2000, 5e-324) -46.0141, mpmath -46.8194, 1.7 % off; SciPy 6e-4 off).
# From the series' first term (x = exp(L / a)), Newton's method on log(t.cdf(t)) = log p (t.logcdf is accurate in the far tail;
# its slope t.pdf / t.cdf from the logarithms), and the derivatives of the root by the
# implicit function theorem: dt = (dp / p - d_df logcdf(t, df) ddf) cdf / pdf, written with
# functrans's operations, so each order differentiates the one before.
_STDTRIT_REFINE_STEPS = 2   # (from the start below: 3e-6, 4e-12, 4e-16 relative)


def _stdtrit_refine_near(out, near, a, lead, p, d):
    # (the start: a u + log S(e^u) = L with S(x) ~ (1 - x)^(-1/2), its large-a form, by one
    # step from u = L / a; then t = -sqrt(df (1 - x) / x))
    a, lead = fnp.stop_gradient(_where(near, a, 1.0)), fnp.stop_gradient(_where(near, lead, -1.0))
    u = fnp.divide(lead, a)
    u = fnp.divide(fnp.add(lead, fnp.multiply(0.5, fnp.log(fnp.negative(fnp.expm1(u))))), a)
    t0 = fnp.negative(fnp.sqrt(fnp.multiply(fnp.multiply(a, 2.0), fnp.expm1(fnp.negative(u)))))
    return _where(near, _stdtrit_refined(t0, _where(near, p, 0.25), _where(near, d, 1.0)),
                  out)
# (above, t.ppf is right: its large-df form; and t.logcdf is nan from df ~ 1e20)
_STDTRIT_REFINE_DF = 1e7


def _stdtrit_refined(t0, p, df):
    global _stdtrit_refined_fn
    if _stdtrit_refined_fn is None:
        from ..custom import custom_jvp
        _stdtrit_refined_fn = custom_jvp(_stdtrit_refine)
        _stdtrit_refined_fn.defjvp(_stdtrit_refined_jvp, symbolic_zeros=True)
    return _stdtrit_refined_fn(t0, p, df)


def _stdtrit_refine(t, p, df):
    from . import stats as _stats
    t, p, df = fnp.stop_gradient(t), fnp.stop_gradient(p), fnp.stop_gradient(df)
    log_p = fnp.log(p)
    for _ in range(_STDTRIT_REFINE_STEPS):
        log_cdf = _stats.t.logcdf(t, df)
        step = fnp.multiply(fnp.subtract(log_cdf, log_p),
                            fnp.exp(fnp.subtract(log_cdf, _stats.t.logpdf(t, df))))
        t = fnp.subtract(t, step)
    return t


def _stdtrit_refined_jvp(primals, tangents):
    from . import stats as _stats
    from ..api import jvp
    t0, p, df = primals
    _, tp, tdf = tangents
    t = _stdtrit_refined_fn(t0, p, df)
    log_cdf, log_pdf = _stats.t.logcdf(t, df), _stats.t.logpdf(t, df)
    dt = None
    if type(tp) is not _SymbolicZero:
        # (dp / pdf; inf past overflow, the true slope's, where p is subnormal: written as
        # such, no warning under jit, where the graph runs outside any errstate)
        over = fnp.negative(log_pdf) > _LOG_MAX
        slope = _where(over, _inf, fnp.exp(fnp.negative(_where(over, 0.0, log_pdf))))
        dt = fnp.multiply(tp, slope)
    if type(tdf) is not _SymbolicZero:
        d_df = jvp(lambda d: _stats.t.logcdf(t, d), (df,), (tdf,))[1]
        term = fnp.negative(fnp.multiply(d_df, fnp.exp(fnp.subtract(log_cdf, log_pdf))))
        dt = term if dt is None else fnp.add(dt, term)
    return t, dt


_stdtrit_refined_fn = None


# stdtrit's far left tail: for p < 1e-300 t.ppf was nan (df <= 1: stdtrit(0.079, 5e-324),
# whose t is -6.8e4087: -inf) or wrong (the subnormal p's few digits: stdtrit(30, 5e-324)
# -1.31e11 where mpmath gives -3.00e11, 56 % off; (1000, 5e-324) 3.6 % off). There, with
# a = df / 2 and x = df / (df + t^2) small, 2 p = I_x(a, 1/2) = x^a S(x) / (a B(a, 1/2)),
# S(x) = sum_k (1/2)_k / k! a / (a + k) x^k (the integral of s^(a-1) (1 - s)^(-1/2) term by
# term), so u = log x solves a u + log S(e^u) = L = log(2 a B p) (Newton's method from L / a,
# where S ~ 1), t = -sqrt(df (1 - x) / x), in logarithms (past 1e308: -inf): within ~|log t|
# ulps of mpmath (the logarithms' rounding), for x up to e^-1.2 (~0.3: 34 terms of S).
_STDTRIT_TAIL_P = 1e-300
_STDTRIT_TAIL_LOG_X = -1.2
_STDTRIT_TAIL_TERMS = 34
_STDTRIT_TAIL_STEPS = 5
_STDTRIT_TAIL_G = tuple(math.exp(math.lgamma(k + 0.5) - math.lgamma(0.5) - math.lgamma(k + 1.0))
                        for k in range(_STDTRIT_TAIL_TERMS))


def _stdtrit_far_left(a, lead):
    """t < 0 with I_x(a, 1/2) = 2 p, x = 2a / (2a + t^2), from ``lead = log(2 a B(a, 1/2) p)``
    (see above)."""
    u = fnp.divide(lead, a)
    for _ in range(_STDTRIT_TAIL_STEPS):
        x = fnp.exp(u)
        total, slope = None, None     # S(x), x S'(x) by Horner's rule
        for k in range(_STDTRIT_TAIL_TERMS - 1, -1, -1):
            c = fnp.multiply(_STDTRIT_TAIL_G[k], fnp.divide(a, fnp.add(a, float(k))))
            total = c if total is None else fnp.add(fnp.multiply(total, x), c)
            ck = fnp.multiply(c, float(k))
            slope = ck if slope is None else fnp.add(fnp.multiply(slope, x), ck)
        h = fnp.subtract(fnp.add(fnp.multiply(a, u), fnp.log(total)), lead)
        u = fnp.subtract(u, fnp.divide(h, fnp.add(a, fnp.divide(slope, total))))
    # log|t| = (log df + log(1 - x) - u) / 2
    log_t = 0.5 * fnp.subtract(fnp.add(fnp.log(fnp.multiply(a, 2.0)), fnp.log1p(
        fnp.negative(fnp.exp(u)))), u)
    return fnp.negative(fnp.exp(log_t))


def _stdtrit_overflowed(p, df):
    """``-inf``, a left-tail quantile past the largest float, whose slopes in ``p`` and
    ``df`` are ``+inf`` (t rises with both; as t.ppf's before session 56): through
    ``-exp(log|t|)`` reverse mode met inf - inf (an infinite cotangent into the terms of
    ``d log|t|``), nan with a warning."""
    global _stdtrit_overflowed_fn
    if _stdtrit_overflowed_fn is None:
        from ..custom import custom_jvp
        _stdtrit_overflowed_fn = custom_jvp(lambda p, df: fnp.full_like(p, -_inf))
        _stdtrit_overflowed_fn.defjvp(lambda pr, t: (
            _stdtrit_overflowed_fn(*pr), fnp.add(_mul_sz(_inf, t[0]), _mul_sz(_inf, t[1]))))
    return _stdtrit_overflowed_fn(p, df)


_stdtrit_overflowed_fn = None


def chdtr(v, x, /):
    """The chi-square cumulative distribution function with ``v`` degrees of freedom,
    ``gammainc(v/2, x/2)`` (its values at the edges: 0 at ``x = 0``, 1 for ``v = 0`` and
    ``x > 0``, nan for negative arguments, nan, ``v = x = 0`` and ``v = x = inf``).
    Derivatives in ``x`` (any order) and ``v`` (to second order), as :func:`gammainc`'s."""
    return _weak64("chdtr", (v, x), lambda v, x: _gamma_edges(0.5 * v, 0.5 * x, True))


def chdtrc(v, x, /):
    """The chi-square survival function ``gammaincc(v/2, x/2)``, accurate where it is tiny
    (edges: the complements of :func:`chdtr`'s). Derivatives as :func:`gammaincc`'s."""
    return _weak64("chdtrc", (v, x), lambda v, x: _gamma_edges(0.5 * v, 0.5 * x, False))


def chdtri(v, p, /):
    """The inverse of :func:`chdtrc` in ``x``: ``2 gammainccinv(v/2, p)``, the ``x`` with
    ``chdtrc(v, x) = p`` (``inf`` at ``p = 0``, 0 at ``p = 1``, nan for ``v < 0``, ``p``
    outside [0, 1] and nan; for ``v = 0`` and ``0 < p < 1`` nan, where SciPy gives 0 for
    some small ``p``). Derivatives as :func:`gammainccinv`'s."""
    return _weak64("chdtri", (v, p),
                   lambda v, p: 2.0 * _gamma_inverse(0.5 * v, p, True, "chdtri"))


def gdtr(a, b, x, /):
    """The gamma cumulative distribution function with rate ``a`` and shape ``b``,
    ``gammainc(b, a x)``, with :func:`gammainc`'s values where ``a x`` or ``b`` is at an edge
    of its domain (as SciPy: nan for ``x < 0``, and where ``a x < 0``).
    Derivatives in ``a``, ``x`` (any order) and ``b`` (second order)."""
    return _weak64("gdtr", (a, b, x), lambda a, b, x: _where(
        x < 0.0, math.nan, _gamma_edges(b, fnp.multiply(a, x), True)))


def gdtrc(a, b, x, /):
    """The gamma survival function ``gammaincc(b, a x)`` (as :func:`gdtr`; 1 at
    ``x = 0``), accurate where it is tiny."""
    return _weak64("gdtrc", (a, b, x), lambda a, b, x: _where(
        x < 0.0, math.nan, _gamma_edges(b, fnp.multiply(a, x), False)))


def _count(k):
    """An integer count of the discrete distributions: floored, without a derivative."""
    return fnp.floor(fnp.stop_gradient(k))


def pdtr(k, m, /):
    """The Poisson cumulative distribution function ``sum_(j <= k) exp(-m) m**j / j!`` =
    ``gammaincc(floor(k) + 1, m)``, for ``k >= 0`` (floored, as SciPy) and ``m >= 0``.

    As SciPy: nan for negative ``k`` or ``m`` and nan; 1 at ``m = 0`` and for ``k = inf``,
    0 at ``m = inf`` (nan where both are infinite). Derivative in ``m`` (any order): minus
    the Poisson probability of ``floor(k)``; none in ``k``. (At ``m = 0`` a nan ``k`` gives 1,
    as SciPy.)"""
    return _weak64("pdtr", (k, m), lambda k, m: _poisson(k, m, False))


def _poisson(k, m, upper):
    """pdtr (``upper``: pdtrc) of float64 ``k`` and ``m``."""
    bad = k < 0.0  # (a nan k gives nan through the shape k + 1)
    out = _gamma_edges(_count(_where(bad, 0.0, k)) + 1.0, m, upper)
    return _where(bad, math.nan, _where(_all(k != k, m == 0.0), 0.0 if upper else 1.0, out))


def pdtrc(k, m, /):
    """The Poisson survival function ``sum_(j > k) exp(-m) m**j / j!`` =
    ``gammainc(floor(k) + 1, m)`` (as :func:`pdtr`, the complementary values), accurate
    where it is tiny."""
    return _weak64("pdtrc", (k, m), lambda k, m: _poisson(k, m, True))


def pdtri(k, y, /):
    """The inverse of :func:`pdtr` in ``m``: ``gammainccinv(floor(k) + 1, y)``, the Poisson
    mean with ``pdtr(k, m) = y``, for ``k > -1`` (truncated towards 0, as SciPy does here)
    and ``0 <= y < 1``.

    As SciPy: ``inf`` at ``y = 0``; nan at ``y = 1`` (every ``m <= 0`` gives it), for
    negative or infinite ``k``, ``y`` outside [0, 1) and nan. Derivative in ``y`` as
    :func:`gammainccinv`'s; none in ``k``."""
    def f(k, y):
        bad = _any(k <= -1.0, k != k, k == _inf, y >= 1.0)
        # (SciPy truncates this k towards 0: -0.5 counts as 0)
        kt = fnp.trunc(fnp.stop_gradient(_where(bad, 0.0, k)))
        out = _gamma_inverse(kt + 1.0, _where(bad, 0.5, y), True,
                             "pdtri")
        return _where(bad, math.nan, out)
    return _weak64("pdtri", (k, y), f, ("ld", "ff", "dd"))


def _f_args(n, m, x):
    """``u = n x / (m + n x)`` and ``w = 1 - u = m / (m + n x)``, each computed directly
    (``u = 1``, ``w = 0`` at ``x = inf``)."""
    big = x == _inf
    xs = _where(big, 1.0, x)
    nx = fnp.multiply(n, xs)
    s = fnp.add(m, nx)
    u, w = fnp.divide(nx, s), fnp.divide(m, s)
    return _where(big, 1.0, u), _where(big, 0.0, w)


_F_TINY = 2.0 ** -1000  # (u or w below this: taken from its logarithm, u = n x / (m + n x))


def _f_extreme_pair(xp, bk, n, m, x):
    """(cdf, sf) of the F distribution for ``n, m > 0`` finite and ``0 < x < inf`` (arrays of
    backend ``bk``, no derivatives), each tail computed directly from ``u = n x / (m + n x)``,
    ``w = m / (m + n x)`` and their logarithms (from ``log n + log x - log(m + n x)`` where
    ``n x`` or a quotient underflows or overflows) by the generic incomplete beta function's
    methods (:func:`functrans.backends.generic._betainc_pair`: Stirling-form prefactor,
    continued fraction, Gauss quadrature for two large shapes, the gamma series for one).
    For the extreme degrees of freedom, where the backend's betainc at the rounded ``u``
    fails: f.sf(1e-300, 1e-8, 1e30) was 1 (``n x`` underflows; true 3.5e-6), f.sf(1e30,
    1e-30, 1e30) 0.39 (``w`` rounds to 1; true 2.8e-31)."""
    with _np.errstate(all="ignore"):
        ln, lm, lx = xp.log(n), xp.log(m), xp.log(x)
        lnx = ln + lx
        top = xp.maximum(lm, lnx)
        lden = top + xp.log1p(xp.exp(-xp.abs(lm - lnx)))
        nx = n * x
        den = m + nx
        u, w = nx / den, m / den
        plain = xp.isfinite(den) & (nx > 0.0)
        fine_u = plain & (u >= _F_TINY)
        fine_w = plain & (w >= _F_TINY)
        # (each logarithm from the smaller quotient: the larger one's rounding near 1 is
        # all of its complement)
        lu = xp.where(fine_u, xp.log(xp.where(fine_u, u, 1.0)), lnx - lden)
        lw = xp.where(fine_w, xp.log(xp.where(fine_w, w, 1.0)), lm - lden)
        u = xp.where(fine_u, u, xp.exp(lu))
        w = xp.where(fine_w, w, xp.exp(lw))
        lu = xp.where(u > 0.5, xp.log1p(-w), lu)
        lw = xp.where(w > 0.5, xp.log1p(-u), lw)
        cdf, sf = _generic._betainc_pair(bk, 0.5 * n, 0.5 * m, u, w, lu, lw)
        # (both degrees of freedom above _F_TEMME_DF: Temme's uniform expansion, whose error
        # is ~0.1 / min(n, m)^1.5; the methods above gave f.cdf(1 + 5.5e-11, 9.7e14, 6.8e19)
        # 0.727 (true 0.5005), f.cdf(1, 1.3e56, 1.3e48) 0 and nan where two huge ones
        # differ, f.cdf(2, 1e100, 1e300), true 1)
        both = (n > _F_TEMME_DF) & (m > _F_TEMME_DF)
        if not _read_on_host(both) or bool(bk.to_numpy(xp.any(both))):
            one = xp.ones_like(n)
            tc, ts = _f_temme(xp, bk.extra("erfc"), xp.where(both, n, one),
                              xp.where(both, m, one), xp.where(both, x, one),
                              xp.where(both, lx, 0.0 * one))
            cdf, sf = xp.where(both, tc, cdf), xp.where(both, ts, sf)
        return cdf, sf


_TEMME_SERIES = 16  # (mu^2 - 2E's power series in x - 1 for |x - 1| <= 1/20: 1e-19)
_TEMME_TAIL = 40  # (the far tail's asymptotic series at |z| >= 7: below 1e-20)


def _f_temme(xp, erfc, n, m, x, lx, smooth=False):
    """(cdf, sf) of the F distribution with ``n`` and ``m`` degrees of freedom, both large,
    at ``x`` (``lx = log x``), by Temme's uniform asymptotic expansion of I_u(n/2, m/2)
    (DLMF 8.18.9, its first correction c0): with ``p = n / (n + m)``, ``q = 1 - p``,
    ``s = (n + m)/2``, ``d = x - 1``, the deviance ``eta^2 / 2 = E = log1p(p d) - p log(x)``
    (written ``p M(d) - M(p d)`` or, for p > 1/2, ``q M(-r) - M(-q r)``, ``r = d / x``,
    ``M(t) = t - log1p(t)``: no cancellation of its terms; each over the smaller of p and
    q, which E is proportional to), ``z = eta sqrt(s/2)``, ``mu = sqrt(pq) d / (1 + p d)``
    (``(u - p) / sqrt(pq)``): ``cdf = erfc(-z)/2 + c0 exp(-z^2) / sqrt(2 pi s)``, ``c0 =
    1/eta - 1/mu``; eta and mu are carried divided by sqrt(pq) (E / (pq) is O(d^2) however
    small p is: at 1e11 and 1e300 degrees of freedom near x = 1 E, eta and c0's terms left
    the normal range, nan); for ``|d| <= 1/20`` eta / (sqrt(pq) d) and c0 (its two terms
    cancel) from power series in d, whose derivatives keep their accuracy (the quotients'
    lost ~eps/d: the x slope at ``d = 2.2e-16`` was 8e-12 off). In the far tails (|z| >= 7)
    the smaller one as ``exp(-z^2) (D(|z|) + 1 / (|mu| sqrt(2 pi s)))``, ``D(t) = erfcx(t)/2
    - 1/(2 sqrt(pi) t)`` by its asymptotic series (the direct form cancels to 1/(2 z^2)
    there). Checked against mpmath's quadrature of the beta density (1e-12 at 1e7 degrees
    of freedom: the error falls as min(n, m)^-1.5) and the same expansion at 800 digits
    (within ~2 z^2 ulp: z's rounding). ``smooth`` (functrans.numpy, differentiable, for
    the derivatives of :func:`_f_temme_fix_on_arrays` by forward mode): ``p`` and ``q``
    with derivatives that do not overflow (``1/(1 + m/n)``'s did at (1e100, 1e300)), ``z``
    clamped to +-40 (the values there 0 and 1) and returned third."""
    def big_m(t):
        return -_incomplete_grads._log1pmx(xp, t, xp.log1p(t))
    p = 1.0 / (1.0 + m / n)
    q = 1.0 / (1.0 + n / m)
    if smooth:  # (the same values; the derivatives as p (q, -log1p(m/n))' = p q (dn/n -
        # dm/m): 1/(1 + m/n)'s, -(m/n)' / (1 + m/n)^2, overflowed to 0 for (1e100, 1e300))
        lp, lq = -xp.log1p(m / n), -xp.log1p(n / m)
        p = xp.stop_gradient(p) * xp.exp(lp - xp.stop_gradient(lp))
        q = xp.stop_gradient(q) * xp.exp(lq - xp.stop_gradient(lq))
    d = x - 1.0
    zero = xp.zeros_like(d)
    one = xp.ones_like(d)
    near = xp.abs(d) <= 0.5
    r = d / x
    low = p <= 0.5
    # (E over the smaller of p and q; ot the other, at least 1/2: E itself is ~p d^2 / 2,
    # below the normal range at p = 1e-289 (1e11 and 1e300 degrees of freedom) near x = 1,
    # and eta, mu and c0's denominator (mu + eta) eta mu followed it: f.cdf(1 + 2.2e-16,
    # 1e11, 1e300) was nan; eta_h = eta / sqrt(pq), mu_h = mu / sqrt(pq))
    ot = xp.where(low, q, p)
    dn, rn = xp.where(near, d, zero), xp.where(near, r, zero)
    e_near = xp.where(low, big_m(dn) - big_m(p * dn) / p,
                      big_m(-rn) - big_m(-(q * rn)) / q)
    # (away from x = 1, for p <= 1/2 log1p(p d) - p log x (1 + p d >= 1/2), else q log x +
    # log1p(-q r): neither cancels there)
    e_far = xp.where(low, xp.log1p(p * xp.where(near, zero, d)) / p - lx,
                     lx + xp.log1p(-(q * xp.where(near, zero, r))) / q)
    e = xp.where(near, e_near, e_far)
    e = xp.where(e > 0.0, e, zero)
    # (near x = 1, |d| <= 1/20, by power series in d: 2E / (pq d^2) = 2 sum_(k>=2) (-d)^(k-2)
    # S_(k-1) / k, S_j = sum_(i<j) p^i (eta_h = d sqrt of it), and (mu^2 - 2E) / (pq d^3) =
    # sum_(k>=3) (-d)^(k-3) ((k-1) p^(k-2) - (2/k) S_(k-1)) (c0's numerator; its k = 2 term
    # is 0): quotients of terms O(d^2) and O(d^3) cancelled in their derivatives, the x
    # slope at (1 + 2.2e-16, 1e11, 1e300) was 8e-12 off the density)
    small = xp.abs(d) <= 0.05
    ds = xp.where(small, d, zero)
    ratio, acc3 = zero, zero
    pk, sp, dk, dk3 = xp.ones_like(p), xp.ones_like(p), one, one
    for k in range(2, _TEMME_SERIES + 1):
        if k > 2:
            pk = pk * p
            sp = sp + pk
            dk = dk * ds
            if k > 3:
                dk3 = dk3 * ds
        term = (2.0 / k) * sp * dk
        ratio = ratio + (term if k % 2 == 0 else -term)
        if k > 2:
            coef = ((k - 1) * pk - (2.0 / k) * sp) * dk3
            acc3 = acc3 + (coef if k % 2 == 0 else -coef)
    root_ratio = xp.sqrt(xp.where(small, ratio, one))
    eta_h = xp.where(small, ds * root_ratio,
                     xp.sign(d) * xp.sqrt(2.0 * xp.where(small, one, e) / ot))
    spq = xp.sqrt(p * q)
    half_s = xp.sqrt(0.25 * n + 0.25 * m)  # (sqrt(s/2), no overflow of n + m)
    z = eta_h * (0.5 * xp.sqrt(n * q))  # (sqrt(pq) sqrt(s/2), in fewer roundings)
    if smooth:  # (beyond 40 the values are those at +-40, 0 and 1; z^2's overflow made
        # the slopes inf * 0)
        z = xp.where(xp.abs(z) > 40.0, 40.0 * xp.sign(xp.where(z == z, z, one)), z)
    mu_h = d / (1.0 + p * d)
    # (c0 = 1/eta - 1/mu = pq acc / ((mu + eta) eta mu): near x = 1 acc3 over (mu_h/d +
    # eta_h/d) (eta_h/d) (mu_h/d) sqrt(pq), (1 - 2p) / (3 sqrt(pq)) at d = 0)
    a_h = 1.0 / (1.0 + p * ds)
    c0_small = acc3 / (((a_h + root_ratio) * root_ratio * a_h) * spq)
    eta_l, mu_l = xp.where(small, one, eta_h), xp.where(small, one, mu_h)
    c0 = xp.where(small, c0_small, (1.0 / eta_l - 1.0 / mu_l) / spq)
    mu = spq * mu_h
    root = (2.0 * math.sqrt(math.pi)) * half_s  # (sqrt(2 pi s))
    g = xp.exp(-(z * z))
    corr = g / root * c0
    cdf = 0.5 * erfc(-z) + corr
    sf = 0.5 * erfc(z) - corr
    t = xp.abs(z)
    far = t >= 7.0
    tf = xp.where(far, t, xp.full_like(t, 7.0))
    inv = 1.0 / (2.0 * tf * tf)
    term, ser = one, zero
    for k in range(1, _TEMME_TAIL + 1):
        term = -term * (2 * k - 1) * inv
        ser = ser + term
    tail = g * (ser / (2.0 * math.sqrt(math.pi) * tf)
                + 1.0 / (xp.where(far, xp.abs(mu), one) * root))
    cdf = xp.where(far, xp.where(z < 0.0, tail, 1.0 - tail), cdf)
    sf = xp.where(far, xp.where(z > 0.0, tail, 1.0 - tail), sf)
    return (cdf, sf, z) if smooth else (cdf, sf)


_F_BIG = 2.0 ** 40  # (a degree of freedom above this: the values of _f_extreme_pair)
_F_TEMME_DF = 1e10  # (both above this: theirs by Temme's expansion, within ~1e-16)
_T_PAIR_DF = 1e10  # (stdtr above this df: those values; the plain ones lose 1e-13 beyond)


def _f_extreme_where(xp, n, m, x, big=None):
    """Where :func:`_f_extreme_fix` takes the values of :func:`_f_extreme_pair`: a degree of
    freedom above _F_BIG (the backend's betainc at the rounded ``u`` fails there: nan at
    f.cdf(0.5, 1e30, 1e30), 1 at f.sf(1e3, 0.5, 1e30), true 1.2e-111), both above
    _F_TEMME_DF (there ``u``'s rounding moved the backend's betainc by ~n eps: f.cdf with
    (1e11, 1e11) degrees of freedom was up to 1.1e-5 off within 6 deviations of 1), or ``n x``, ``u`` or ``w`` beyond
    the floating point range; with ``big`` (stdtr's, whose ``n`` is 1 and ``x
    = t^2`` positive and finite, its other edges its own): ``m`` above ``big`` only."""
    if big is not None:
        return (m > big) & (m < _inf)
    big = _F_BIG
    with _np.errstate(all="ignore"):
        nx = n * x
        den = m + nx
        u, w = nx / den, m / den
        inner = ((n > 0.0) & (m > 0.0) & (x > 0.0) & (n < _inf) & (m < _inf) & (x < _inf))
        odd = ((n > big) | (m > big) | ((n > _F_TEMME_DF) & (m > _F_TEMME_DF))
               | ~(den < _inf) | ~(nx > 0.0)
               | ~(u >= _F_TINY) | ~(w >= _F_TINY))
        return inner & odd


def _tangent_of(out):
    """0 with ``out``'s derivatives (any order), also where ``out``'s value is nan or
    infinite (where ``out - stop_gradient(out)`` is nan)."""
    global _tangent_of_fn
    if _tangent_of_fn is None:
        from ..custom import custom_jvp
        _tangent_of_fn = custom_jvp(lambda o: fnp.zeros_like(o))
        _tangent_of_fn.defjvp(lambda primals, tangents: (_tangent_of_fn(primals[0]),
                                                         tangents[0]))
    return _tangent_of_fn(out)


_tangent_of_fn = None


def _f_temme_slopes(form, n, m, x, upper):
    """``form(n, m, x)`` (F's cdf, sf with ``upper``, by the plain betainc form, whose
    derivatives at two huge degrees of freedom are betainc's at the rounded ``u``:
    ``grad(f.cdf)(1., 1e100, 1e300)`` was 1e-200 in x (true 2.8e49), nan in the degrees
    of freedom) with the derivatives of Temme's expansion (:func:`_f_temme`'s smooth form)
    where both are above _F_TEMME_DF, its values kept (_f_extreme_fix's there), by the
    primitive f_temme_fix: the slopes computed at evaluation where some element needs
    them (see :func:`_f_temme_fix_on_arrays`; staged, the expansion's ~1600 equations cost
    jit(grad(f.cdf)) of 1000 ordinary points 14-22 % on every call in session 44); the
    plain form's operands held there (its infinite partials times the zero cotangent would
    be nan in reverse mode)."""
    from .stats import _carries_derivative  # (stats imports this module)
    if not _carries_derivative((n, m, x))[0]:
        return form(n, m, x)
    with _np.errstate(all="ignore"):
        both = _f_temme_region(fnp, n, m, x)
    if not _may_hold(both):
        return form(n, m, x)
    known = _concrete_behind(both)
    if known is True or (isinstance(known, (_np.ndarray, _np.generic)) and bool(known.all())):
        # (every element there, values known on the host: the plain form without derivative
        # work, which took ~2.5 s for a scalar at these shapes)
        out = form(*(fnp.stop_gradient(v) for v in (n, m, x)))
    else:
        rest = fnp.logical_not(both)
        out = form(*(fnp.where(rest, v, fnp.stop_gradient(v)) for v in (n, m, x)))
    return _sp.f_temme_fix(*_t_fix_operands(n, m, x, out), upper=bool(upper))


def _f_temme_region(xp, n, m, x):
    """Where F's cdf takes Temme's expansion's derivatives: both degrees of freedom above
    _F_TEMME_DF and finite, ``0 < x < inf``. (By ``xp.logical_and``, not ``&``: with
    ``fnp`` one comparison may be a backend array and another a tracer, and an
    array-api-strict array on the left of ``&`` refuses a tracer instead of deferring.)"""
    out = xp.logical_and(n > _F_TEMME_DF, m > _F_TEMME_DF)
    for part in (n < _inf, m < _inf, x > 0.0, x < _inf):
        out = xp.logical_and(out, part)
    return out


def _f_temme_partial(bk, upper, slope, wrt, n, m, x):
    """The partial derivative of Temme's cdf (sf with ``upper``; :func:`_f_temme`'s smooth
    form on functrans.numpy) in ``(n, m, x)[slope]``, then in the operands ``wrt`` names,
    at the arrays (of backend ``bk``), by nested forward mode (reverse mode's cotangents
    overflow where forward mode's tangents do not: E / p's at p = 1e-289 near x = 1, nan
    for f.cdf at (1 + 2.2e-16, 1e11, 1e300)), in the operands' order (the same bits for
    every order the partials are asked in: a symmetric Hessian)."""
    k = 1 if upper else 0

    def fn(n, m, x):
        return _f_temme(fnp, erfc, n, m, x, fnp.log(x), smooth=True)[k]
    return _partials_by_jvp(bk, fn, (n, m, x), tuple(sorted((slope,) + tuple(wrt))),
                            all_traced=True)


def _f_temme_fix_on_arrays(bk, slope, n, m, x, upper, wrt):
    """The primitive f_temme_fix (functrans.primitives.special) on arrays of backend
    ``bk``: the partial derivative of Temme's expansion of F's cdf (sf with ``upper``) in
    ``(n, m, x)[slope]``, then in the operands ``wrt`` names, where both degrees of freedom
    are above _F_TEMME_DF (:func:`_f_temme_region`) and ``|z| < 38`` (beyond, the density
    underflows: 0, where the expansion's slopes are inf * 0), 0 elsewhere; or (``slope``
    "region") that region. Only where some element is in it (read on the host, for arrays
    on the CPU; on NumPy the region's elements only, and none computed where no degree of
    freedom is above _F_TEMME_DF; elsewhere a read would wait for the device: every
    element, with stand-ins outside)."""
    on_numpy = isinstance(x, (_np.ndarray, _np.generic))
    xp = _np if on_numpy else bk.xp
    zero = xp.zeros_like(x)
    if on_numpy and slope != "region" and x.size and (
            n.max() <= _F_TEMME_DF or m.max() <= _F_TEMME_DF):
        return zero  # (two reductions: no element in the region)
    with _np.errstate(all="ignore"):
        region = _f_temme_region(xp, n, m, x)
    if slope == "region":
        return region

    def inner_slopes(n, m, x, region):
        one = xp.ones_like(x)
        big = xp.full_like(x, 1e20)
        ns, ms, xs = (xp.where(region, v, s) for v, s in ((n, big), (m, big), (x, one)))
        z = xp.asarray(_f_temme(fnp, erfc, ns, ms, xs, fnp.log(xs), smooth=True)[2])
        inner = region & (xp.abs(z) < 38.0)
        ns, ms, xs = (xp.where(inner, v, s) for v, s in ((n, big), (m, big), (x, one)))
        return xp.where(inner, _f_temme_partial(bk, upper, slope, wrt, ns, ms, xs),
                        xp.zeros_like(x))
    with _np.errstate(all="ignore"):
        if on_numpy:  # (the region's elements only)
            if not region.any():
                return zero
            if region.all():
                return _np.asarray(inner_slopes(n, m, x, region), dtype=x.dtype)
            out = _np.zeros(_np.shape(x), dtype=x.dtype)
            out[region] = inner_slopes(n[region], m[region], x[region],
                                       _np.ones(int(region.sum()), dtype=bool))
            return out
        if _read_on_host(x) and not bool(bk.to_numpy(xp.any(region))):
            return zero
        return inner_slopes(n, m, x, region)


# F's cdf at one huge degree of freedom. With b = max(n, m) / 2, a = min(n, m) / 2 and
# lam = b w (w = m / (m + n x) for the larger n, u = n x / (n x + m) for the larger m),
# the side whose quotient is small is I_w(a, b) = D S: D = w^a (1 - w)^b / (a B(a, b)), S =
# sum_k prod_(j<k) rho_j, rho_j = lam (1 + (a + j) / b) / (a + 1 + j), the hypergeometric
# series, whose terms tend to Poisson's as b grows (I_w -> P(a, lam)). Written in (a, b, lam)
# with log D = a log lam - lam - lgamma(a + 1) + b log1pmx(-lam / b) + L(a, b), L = lgamma(a
# + b) - lgamma(b) - a log b by the difference of Stirling's series term by term, and lam =
# (m / (2 x)) / (1 + m / (n x)) (or (n x / 2) / (1 + n x / m)), every term's derivative in the
# larger degree of freedom is O(1 / b^2) as the sum's: betainc's shape slope and the
# quotient's, each O(1 / b), cancelled to it (~25 b eps relative: the dfn slope at (0.5,
# 1e16, 17) had the wrong sign, at 1e300 nan). Its derivatives (forward mode over the form)
# replace the plain ones where lam <= _F_HUGE_LAM and the sum of the dfn terms' sizes over
# its size (its rounding, from n^2 (A + beta_k) ~ a + k - (lam - a - k)^2) is below b: in
# the far lower tail (lam >> a, I_w near 1) that sum cancels too, and the plain form keeps
# the slopes where it cancels less.
_F_HUGE_DF = 1e3
_F_HUGE_LAM = 400.0


def _f_huge_terms(lam):
    """The series' terms for each ``lam`` (values): past ``k ~ lam - a`` they fall faster
    than Poisson's, below 1e-17 of the largest by ``lam + 9 sqrt(lam) + 30``."""
    return lam + 9.0 * (lam ** 0.5) + 30.0


def _f_huge_parts(xp, n, m, x):
    """``(a, b, lam, by_n)`` of the form above (``by_n``: n is the larger one, the series
    gives the sf; else the cdf)."""
    by_n = xp.greater_equal(n, m)
    a = 0.5 * xp.where(by_n, m, n)
    b = 0.5 * xp.where(by_n, n, m)
    # (by the namespace's functions: on a device array operand's operators refuse a tracer)
    nx = xp.multiply(n, x)
    lam = xp.where(by_n, xp.divide(xp.divide(m, xp.multiply(2.0, x)),
                                   xp.add(1.0, xp.divide(m, nx))),
                   xp.divide(xp.multiply(0.5, nx), xp.add(1.0, xp.divide(nx, m))))
    return a, b, lam, by_n


def _f_huge_form(n, m, x, upper, count):
    """F's cdf (sf with ``upper``) by the series above on functrans.numpy (differentiable),
    with ``count`` terms at most (each element its own :func:`_f_huge_terms`, the later
    ones 0: a batch's members get their own bits)."""
    a, b, lam, by_n = _f_huge_parts(fnp, n, m, x)
    own = _f_huge_terms(fnp.stop_gradient(lam))
    ta = a / b
    l1 = fnp.log1p(ta)
    corr, ib = fnp.zeros_like(b), 1.0 / b   # (b^-p: b^p overflowed at 5e299, nan slopes)
    for k, c in enumerate(_incomplete_grads._STIRLING, start=1):
        p = 2 * k - 1
        corr = corr + c * fnp.expm1(-p * l1) * ib ** p
    big_l = b * _incomplete_grads._log1pmx(fnp, ta, l1) + (a - 0.5) * l1 + corr
    t = lam / b
    log_d = (a * fnp.log(lam) - lam - gammaln(a + 1.0)
             + b * _incomplete_grads._log1pmx(fnp, -t, fnp.log1p(-t)) + big_l)
    s, term = fnp.ones_like(b), fnp.ones_like(b)
    for j in range(count):
        rho = lam * (1.0 + (a + j) / b) / (a + (j + 1.0))
        term = term * fnp.where(own > j, rho, 0.0)
        s = s + term
    g = fnp.exp(log_d) * s
    return fnp.where(by_n == bool(upper), g, 1.0 - g)


def _f_huge_region(bk, xp, n, m, x, upper):
    """Where F's cdf (sf with ``upper``) takes the series' derivatives (see above):
    ``(region, count)``, the terms its elements need (values; arrays of backend ``bk`` in
    namespace ``xp``; the count read on the host where that waits for no device, else the
    largest)."""
    with _np.errstate(all="ignore"):
        fin = ((n > 0.0) & (m > 0.0) & (n < _inf) & (m < _inf) & (x > 0.0) & (x < _inf)
               & ~((n > _F_TEMME_DF) & (m > _F_TEMME_DF))
               & ((n >= _F_HUGE_DF) | (m >= _F_HUGE_DF)))
        one = xp.ones_like(x)
        a, b, lam, by_n = _f_huge_parts(xp, xp.where(fin, n, one),
                                        xp.where(fin, m, 2.0 * one), xp.where(fin, x, one))
        fin = fin & (lam <= _F_HUGE_LAM) & (lam > 0.0)
        lam = xp.where(fin, lam, one)
        a, b = xp.where(fin, a, one), xp.where(fin, b, 1e6 * one)
        # (where the method is 1 - I_w, the series' side near 1, and that is below 1 / (25
        # b): its slopes, eps absolute, lose more there than the plain form's ~25 b eps
        # relative (the dfn slope of f.cdf(1e-3, 2e3, 0.5), 7.4e-102, was -1.0e-11);
        # 1 - I_w ~ Q(a, lam) within ~1 / b)
        near_one = by_n != bool(upper)
        if not (_read_on_host(near_one) and not bool(_np.any(bk.to_numpy(near_one)))):
            comp = xp.asarray(gammaincc(xp.where(near_one, a, one), xp.where(near_one, lam, one)))
            fin = fin & ~(near_one & (comp * (25.0 * b) < 1.0))
        own = _f_huge_terms(lam)
        count = int(math.ceil(_f_huge_terms(_F_HUGE_LAM)))
        if _read_on_host(fin):
            count = int(math.ceil(float(_np.max(_np.asarray(bk.to_numpy(
                xp.where(fin, own, 0.0 * one))), initial=0.0))))
        # (the rounding of the n^2-scaled dfn terms, a + k - (lam - a - k)^2, to leading
        # order in 1/b, over their sum's size)
        term, total, size = one, 0.0 * one, 0.0 * one
        for k in range(count + 1):
            if k:
                term = term * xp.where(own > k - 1, lam * (1.0 + (a + (k - 1)) / b)
                                       / (a + float(k)), 0.0)
            g = (a + k) - (lam - a - k) ** 2
            total, size = total + term * g, size + term * xp.abs(g)
        return fin & (size < b * xp.abs(total)), count


def _f_huge_fix_on_arrays(bk, slope, n, m, x, upper, wrt):
    """The primitive f_huge_fix (functrans.primitives.special) on arrays of backend ``bk``:
    the partial derivative of the series form of F's cdf (sf with ``upper``) at one huge
    degree of freedom (:func:`_f_huge_form`) in ``(n, m, x)[slope]``, then in the operands
    ``wrt`` names, in :func:`_f_huge_region`, 0 elsewhere; or (``slope`` "region") that
    region. On NumPy the region's elements only (none computed where no degree of freedom
    is above _F_HUGE_DF); elsewhere every element, with stand-ins outside."""
    on_numpy = isinstance(x, (_np.ndarray, _np.generic))
    xp = _np if on_numpy else bk.xp
    zero = xp.zeros_like(x)
    if on_numpy and slope != "region" and x.size and max(n.max(), m.max()) < _F_HUGE_DF:
        return zero  # (two reductions: no element in the region)
    region, count = _f_huge_region(bk, xp, n, m, x, upper)
    if slope == "region":
        return region
    order = tuple(sorted((slope,) + tuple(wrt)))

    def partials(n, m, x):
        # (a partial in the huge degree of freedom: the series'; the others the plain
        # form's, each operand's tangent alone (no shape slope in the huge one): the
        # series' in the lower tail, 1 - I_w, lose ~eps / (1 - I_w) there)
        # (beyond _F_LIMIT_DF the others from the gamma limit, exact in float64 there:
        # betainc's shape slope at df/2 ~ 5e299 ran to its step limit, nan)
        by_n = n >= m
        if 0 in order and 1 in order:
            take = by_n | ~by_n
        elif 0 in order or 1 in order:
            take = by_n if 0 in order else ~by_n
        else:
            take = by_n & ~by_n
        series = _partials_by_jvp(
            bk, lambda n, m, x: _f_huge_form(n, m, x, upper, count), (n, m, x), order,
            all_traced=True)
        if on_numpy and take.all():
            return series
        one = xp.ones_like(x)
        lim = xp.maximum(n, m) > _F_LIMIT_DF
        rest = []
        for fn, keep in ((_f_plain_cdf, ~(take | lim)), (_f_limit_cdf, ~take & lim)):
            if on_numpy and not keep.any():
                rest.append(xp.zeros_like(x))
                continue
            ops = tuple(xp.where(keep, v, s) for v, s in ((n, 2.0 * one), (m, 2.0 * one),
                                                          (x, one)))
            rest.append(_partials_by_jvp(bk, lambda n, m, x: fn(n, m, x, upper), ops, order))
        return xp.where(take, series, xp.where(lim, rest[1], rest[0]))
    with _np.errstate(all="ignore"):
        if on_numpy:
            if not region.any():
                return zero
            if region.all():
                return _np.asarray(partials(n, m, x), dtype=x.dtype)
            out = _np.zeros(_np.shape(x), dtype=x.dtype)
            out[region] = partials(n[region], m[region], x[region])
            return out
        if _read_on_host(x) and not bool(bk.to_numpy(xp.any(region))):
            return zero
        one = xp.ones_like(x)
        ns, ms, xs = (xp.where(region, v, s) for v, s in ((n, 1e6 * one), (m, 2.0 * one),
                                                          (x, one)))
        return xp.where(region, partials(ns, ms, xs), zero)


_F_LIMIT_DF = 1e17  # (f_huge_fix: above it the gamma limit's slopes in the smaller df and x)


def _f_limit_cdf(n, m, x, upper):
    """F's cdf (sf with ``upper``) in the limit of one infinite degree of freedom, the
    regularized incomplete gamma function of ``(a, lam)`` (see _f_huge_form; within ~1 / b
    relative of the finite one, below eps beyond _F_LIMIT_DF), functrans.numpy."""
    a, b, lam, by_n = _f_huge_parts(fnp, n, m, x)
    return fnp.where(by_n == bool(upper), gammainc(a, lam), gammaincc(a, lam))


def _f_plain_cdf(n, m, x, upper):
    """F's cdf (sf with ``upper``) as one betainc of the smaller quotient (functrans.numpy;
    as stats.f's derivatives away from f_huge_fix's region)."""
    nx = fnp.multiply(n, x)   # (functions: a device array's operators refuse a tracer)
    u = fnp.divide(1.0, fnp.add(1.0, fnp.divide(m, nx)))
    w = fnp.divide(1.0, fnp.add(1.0, fnp.divide(nx, m)))
    by_w = w <= 1.0 / 16.0
    j = betainc(fnp.where(by_w, 0.5 * m, 0.5 * n), fnp.where(by_w, 0.5 * n, 0.5 * m),
                fnp.where(by_w, w, u))
    return fnp.where(by_w == bool(upper), j, 1.0 - j)


def _f_huge_slopes(form, n, m, x, upper):
    """``form(n, m, x)`` (F's cdf, sf with ``upper``) with the derivatives of the series
    form at one huge degree of freedom (see above) where :func:`_f_huge_region` holds, by
    the primitive f_huge_fix (computed at evaluation where some element needs them); the
    plain form's operands held there (its partials at df/2 ~ 5e299 ran betainc's shape
    slopes to their step limit, ~1.3 s for a scalar, and gave nan)."""
    from .stats import _carries_derivative  # (stats imports this module)
    if not _carries_derivative((n, m, x))[0]:
        return form(n, m, x)
    nc, mc = _concrete_behind(n), _concrete_behind(m)
    if (nc is not None and mc is not None and not _may_hold(_any(
            fnp.asarray(nc) >= _F_HUGE_DF, fnp.asarray(mc) >= _F_HUGE_DF))):
        return form(n, m, x)
    parts = _t_fix_operands(n, m, x)
    known = _concrete_behind(parts[0]), _concrete_behind(parts[1]), _concrete_behind(parts[2])
    if all(isinstance(k, (_np.ndarray, _np.generic)) for k in known):
        with _np.errstate(all="ignore"):
            region = _f_huge_region(_backend_of(known[0]), _np, *(_np.asarray(k)
                                                                   for k in known),
                                    upper)[0]
        if not region.any():
            return form(n, m, x)
        if region.all():  # (no derivative work in the plain form at all)
            out = form(*(fnp.stop_gradient(v) for v in (n, m, x)))
        elif region.shape == tuple(parts[0].shape):  # (not a batch's values)
            held = fnp.asarray(region)
            out = form(*(fnp.where(held, fnp.stop_gradient(v), v) for v in (n, m, x)))
        else:
            out = form(n, m, x)
    else:
        out = form(n, m, x)
    return _sp.f_huge_fix(*_t_fix_operands(n, m, x, out), upper=bool(upper))


def _f_extreme_fix(out, n, m, x, upper, big=None):
    """``out`` (F's cdf, or sf with ``upper``, at ``n``, ``m`` degrees of freedom and ``x``)
    with the values of :func:`_f_extreme_pair` where :func:`_f_extreme_where` holds (a
    degree of freedom above ``big``, _F_BIG where None...), its derivatives kept (nan where
    ``out`` was nan). Where the operands' values are arrays (eager transforms, vmap)
    directly; in staged code at evaluation, through the primitive f_extreme_fix."""
    from ..batching import BatchTracer
    found = _lined_up((n, m, x), constants=False)
    if found is None or any(type(v) is bool for v in found[0]):
        if found is None and _dtype(out) is _dt.float64:
            shape = out.shape
            return _sp.f_extreme_fix(*(v if getattr(v, "shape", None) == shape
                                       else fnp.broadcast_to(fnp.asarray(v, dtype=_dt.float64),
                                                             shape)
                                       for v in (out, n, m, x)), upper=bool(upper),
                                    big=big)
        return out
    (n, m, x), interp = found
    bk = _backend_of(next(v for v in (n, m, x) if hasattr(v, "ndim")))
    xp = bk.xp
    n, m, x = (xp.asarray(v, dtype=xp.float64) if not hasattr(v, "ndim") else v
               for v in (n, m, x))
    take = _f_extreme_where(xp, n, m, x, big)
    # (the selection read on the host only where that waits for no device)
    if _read_on_host(take) and not _may_hold(take):
        return out
    one = xp.ones_like(take, dtype=n.dtype)
    value = _f_extreme_pair(xp, bk, xp.where(take, n, one), xp.where(take, m, one),
                            xp.where(take, x, one))[1 if upper else 0]
    if interp is not None:
        value, take = BatchTracer(interp, value), BatchTracer(interp, take)
    return fnp.where(take, fnp.add(value, _tangent_of(out)), out)


def _f_cdf(dfn, dfd, x, lower):
    bad = _any(dfn <= 0.0, dfd <= 0.0, x < 0.0, dfn != dfn, dfd != dfd)
    n, m = _where(bad, 1.0, dfn), _where(bad, 1.0, dfd)
    def form(n, m, xs):
        u, w = _f_args(n, m, xs)
        return _f_extreme_fix(_beta_cdf_edges(0.5 * n, 0.5 * m, u, w, lower), n, m, xs,
                              not lower)
    out = _f_huge_slopes(lambda n, m, xs: _f_temme_slopes(form, n, m, xs, not lower), n, m,
                         _where(bad, 1.0, x), not lower)
    # (x = inf: 1 for the cdf, also where both degrees of freedom are infinite, as SciPy)
    out = _where(x == _inf, 1.0 if lower else 0.0, out)
    return _where(bad, math.nan, out)


def fdtr(dfn, dfd, x, /):
    """The F distribution's cumulative distribution function with ``dfn`` and ``dfd``
    degrees of freedom, ``I_u(dfn/2, dfd/2)`` with ``u = dfn x / (dfd + dfn x)``, for
    ``x >= 0`` (``1 - u`` computed directly, and used where ``u`` is close to 1).

    As SciPy: nan for ``dfn <= 0``, ``dfd <= 0``, ``x < 0`` and nan; 0 at ``x = 0``, 1 at
    ``x = inf``; betainc's values where a degree of freedom is infinite. Derivatives in
    ``x`` (any order) and the degrees of freedom (third order)."""
    return _weak64("fdtr", (dfn, dfd, x), lambda n, m, x: _f_cdf(n, m, x, True))


def fdtrc(dfn, dfd, x, /):
    """The F distribution's survival function ``I_w(dfd/2, dfn/2)``,
    ``w = dfd / (dfd + dfn x)``, accurate where it is tiny (as :func:`fdtr`, the
    complementary values)."""
    return _weak64("fdtrc", (dfn, dfd, x), lambda n, m, x: _f_cdf(n, m, x, False))


def fdtri(dfn, dfd, p, /):
    """The inverse of :func:`fdtr` in ``x``: the ``x >= 0`` with ``fdtr(dfn, dfd, x) = p``
    (0 at ``p = 0``, ``inf`` at 1; nan for ``dfn <= 0``, ``dfd <= 0``, infinite degrees of
    freedom, ``p`` outside [0, 1] and nan). Computed as :func:`functrans.scipy.stats.f`'s
    ``ppf`` (through ``betaincinv``, from the side of the two complementary problems whose
    root is below 1/2, or the direct one below ``p = 1/2``): differentiable in ``p`` (any order) and the degrees of freedom (third order)."""
    from . import stats as _stats

    def f(n, m, p):
        # (infinite degrees of freedom: nan, also at p = 0 and 1, as SciPy)
        bad = _any(n <= 0.0, m <= 0.0, n != n, m != m, p < 0.0, p > 1.0, p != p,
                   n == _inf, m == _inf)
        out = _stats.f.ppf(_where(bad, 0.5, p), _where(bad, 1.0, n), _where(bad, 1.0, m))
        return _where(bad, math.nan, out)
    return _weak64("fdtri", (dfn, dfd, p), f)


def _counts(k, n, floor_k):
    """SciPy's integer arguments of the binomial functions: ``n`` truncated towards 0 (a C
    int), ``k`` floored (``bdtr*``) or truncated (``nbdtr*``); no derivatives in either (a nan
    or infinite ``n`` counts as invalid: -1)."""
    k, n = fnp.stop_gradient(k), fnp.stop_gradient(n)
    kk = _where(fnp.isfinite(k), k, 0.0)
    kc = fnp.floor(kk) if floor_k else fnp.trunc(kk)
    # (an infinite k keeps its value where it is floored, and counts as -1 where truncated)
    kc = _where(fnp.isfinite(k), kc, k if floor_k else -1.0)
    return kc, _where(fnp.isfinite(n), fnp.trunc(_where(fnp.isfinite(n), n, 0.0)), -1.0)


def bdtr(k, n, p, /):
    """The binomial cumulative distribution function ``sum_(j <= k) C(n, j) p**j
    (1-p)**(n-j)`` = ``I_(1-p)(n - k, k + 1)``, with SciPy's integer arguments: ``k``
    floored, ``n`` truncated towards 0 (as SciPy's C int), ``0 <= k <= n``,
    ``0 <= p <= 1``.

    As SciPy: 1 where ``k = n``; nan for ``k < 0``, ``k > n``, ``p`` outside [0, 1], an
    infinite or nan ``n``, and nan. Derivative in ``p`` (any order); none in ``k`` and
    ``n`` (integers)."""
    def f(k, n, p):
        kc, nc = _counts(k, n, True)
        bad = _any(k != k, p != p, p < 0.0, p > 1.0, kc < 0.0, fnp.greater(kc, nc))
        top = fnp.equal(kc, nc)
        ok = fnp.logical_not(_any(bad, top))
        a, b = _where(ok, fnp.subtract(nc, kc), 1.0), _where(ok, kc + 1.0, 1.0)
        ps = _where(ok, p, 0.5)
        out = _where(top, 1.0, _beta_cdf_edges(a, b, 1.0 - ps, ps, True))
        return _where(bad, math.nan, out)
    return _weak64("bdtr", (k, n, p), f)


def bdtrc(k, n, p, /):
    """The binomial survival function ``sum_(j > k) C(n, j) p**j (1-p)**(n-j)`` =
    ``I_p(k + 1, n - k)``, accurate where it is tiny (integer arguments as :func:`bdtr`'s).

    As SciPy: 1 for ``k < 0``, else nan for ``k > n`` and 0 for ``k = n``; nan for ``p``
    outside [0, 1], an infinite or nan ``n``, and nan. Derivative in ``p`` (any order)."""
    def f(k, n, p):
        kc, nc = _counts(k, n, True)
        bad = _any(k != k, p != p, p < 0.0, p > 1.0, fnp.logical_not(fnp.isfinite(n)))
        low = kc < 0.0
        bad = fnp.logical_or(bad, fnp.logical_and(fnp.greater(kc, nc), fnp.logical_not(low)))
        top = fnp.equal(kc, nc)
        ok = fnp.logical_not(_any(bad, low, top))
        a, b = _where(ok, kc + 1.0, 1.0), _where(ok, fnp.subtract(nc, kc), 1.0)
        ps = _where(ok, p, 0.5)
        out = _where(low, 1.0, _where(top, 0.0, _beta_cdf_edges(a, b, ps, 1.0 - ps, True)))
        return _where(bad, math.nan, out)
    return _weak64("bdtrc", (k, n, p), f)


def bdtri(k, n, y, /):
    """The inverse of :func:`bdtr` in ``p``: the success probability with
    ``bdtr(k, n, p) = y``, for ``0 <= k < n`` (integer arguments as :func:`bdtr`'s) and
    ``0 <= y <= 1`` (1 at ``y = 0``, 0 at ``y = 1``): ``betaincinv(k + 1, n - k, 1 - y)``
    where ``y >= 1/2`` (``1 - y`` exact), ``1 - betaincinv(n - k, k + 1, y)`` below. nan for
    ``k < 0``, ``k >= n``, ``y`` outside [0, 1] and nan, as SciPy. Derivative in ``y`` (any
    order)."""
    def f(k, n, y):
        kc, nc = _counts(k, n, True)
        bad = _any(k != k, y != y, y < 0.0, y > 1.0, kc < 0.0, fnp.greater_equal(kc, nc))
        a, b = _where(bad, 1.0, kc + 1.0), _where(bad, 1.0, fnp.subtract(nc, kc))
        ys = _where(bad, 0.5, y)
        hi = ys >= 0.5
        p_hi = betaincinv(a, b, 1.0 - _where(hi, ys, 0.5))
        p_lo = 1.0 - betaincinv(b, a, _where(hi, 0.5, ys))
        return _where(bad, math.nan, _where(hi, p_hi, p_lo))
    return _weak64("bdtri", (k, n, y), f)


def _negative_binomial(k, n, p, name, fn):
    """``fn(k + 1, n, p)`` with SciPy's integer arguments (``k`` and ``n`` truncated
    towards 0) and domain: nan for ``k < 0``, ``p`` outside [0, 1] and nan; ``fn`` gives
    the values of the incomplete beta functions at ``n <= 0``."""
    def f(k, n, p):
        kc, nc = _counts(k, n, False)
        bad = _any(k != k, n != n, p != p, p < 0.0, p > 1.0, kc < 0.0)
        return _where(bad, math.nan, fn(_where(bad, 1.0, kc + 1.0), _where(bad, 1.0, nc),
                                        _where(bad, 0.5, p)))
    return _weak64(name, (k, n, p), f, ("lld", "fff", "ddd"))


def _shape_positive(b, value):
    """nan where the shape ``b`` of an incomplete beta function is ``<= 0`` (as SciPy's
    cephes ``incbet``, before its edges)."""
    return _where(b <= 0.0, math.nan, value)


def nbdtr(k, n, p, /):
    """The negative binomial cumulative distribution function (at most ``k`` failures before
    the ``n``-th success, success probability ``p``) ``I_p(n, k + 1)``, with ``k`` and ``n``
    truncated towards 0 (SciPy's C ints), ``k >= 0``, ``n > 0``, ``0 <= p <= 1``.

    As SciPy: nan outside, for an infinite or nan ``n`` and for nan. Derivative in ``p`` (any
    order); none in ``k`` and ``n`` (integers)."""
    def f(k1, n, p):
        ns = _where(n > 0.0, n, 1.0)
        return _shape_positive(n, _beta_cdf_edges(ns, k1, p, 1.0 - p, True))
    return _negative_binomial(k, n, p, "nbdtr", f)


def nbdtrc(k, n, p, /):
    """The negative binomial survival function ``I_(1-p)(k + 1, n)``, accurate where it is
    tiny (arguments as :func:`nbdtr`'s)."""
    def f(k1, n, p):
        ns = _where(n > 0.0, n, 1.0)
        return _shape_positive(n, _beta_cdf_edges(ns, k1, p, 1.0 - p, False))
    return _negative_binomial(k, n, p, "nbdtrc", f)


def nbdtri(k, n, y, /):
    """The inverse of :func:`nbdtr` in ``p``: ``betaincinv(n, k + 1, y)`` (arguments as
    :func:`nbdtr`'s; as SciPy 0 at ``y = 0`` and 1 at ``y = 1`` whatever ``n``, nan for
    ``n <= 0`` between). Derivative in ``y`` (any order)."""
    def f(k1, n, y):
        ns = _where(n > 0.0, n, 1.0)
        out = _shape_positive(n, betaincinv(ns, k1, y))
        return _where(y == 0.0, 0.0, _where(y == 1.0, 1.0, out))
    return _negative_binomial(k, n, y, "nbdtri", f)


# -- special18b: elementary functions (cbrt, degrees, cosm1, exp2, exp10, exprel, radian,
# rgamma, sinc, inv_boxcox, inv_boxcox1p, huber, pseudo_huber, binom, zetac) ----------------
# (composed of functrans.numpy's operations and the primitives above, so their derivatives
# come from those: any order)


def cbrt(x, /):
    """The real cube root, ``cbrt(-8) = -2`` (``functrans.numpy.cbrt``). Derivative
    ``1 / (3 cbrt(x)**2)`` (``inf`` at 0). Integers give float64."""
    return _in64(fnp.cbrt, _real(x, "cbrt"))


def _degrees(x):
    """``(q, d)``: ``x = 360 j + 90 q + d`` with ``q`` in 0..3 and ``|d| <= 45``, both exact
    (the reduction has no rounding), ``d`` with derivative 1 in ``x``, ``q`` none."""
    r = fnp.fmod(x, 360.0)  # (exact, of x's sign: no rounding of a small negative x)
    q = fnp.round(fnp.stop_gradient(r) / 90.0)
    d = r - 90.0 * q
    return fnp.remainder(q, 4.0), d


def _sin_cos_degrees(x):
    """``(sin, cos)`` of ``x`` degrees, exact at the multiples of 90 (0, +-1)."""
    q, d = _degrees(x)
    t = d * (math.pi / 180.0)
    s, c = fnp.sin(t), fnp.cos(t)
    sin = _where(q == 0.0, s, _where(q == 1.0, c, _where(q == 2.0, -s, -c)))
    cos = _where(q == 0.0, c, _where(q == 1.0, -s, _where(q == 2.0, -c, s)))
    return sin, cos, q, d


def _lost(x, out):
    """nan at +-inf and nan, as sin and cos (SciPy's are 0 at +-inf, and beyond 1e14 degrees,
    cephes' "total loss of precision": the exact reduction loses nothing there, sindg(1e15)
    is sin(280 degrees) = -0.985)."""
    return _where(fnp.isfinite(x), out, math.nan)


def sindg(x, /):
    """The sine of an angle ``x`` in degrees, exact at the multiples of 90 (the angle is
    reduced exactly to ``[-45, 45]`` about a multiple of 90 first, at any magnitude: SciPy
    gives 0 beyond ``1e14``); nan at ``+-inf`` (SciPy 0). Derivative:
    ``pi/180 cosdg(x)``."""
    return _in64(lambda x: _lost(x, _sin_cos_degrees(_finite_or_0(x))[0]), _real(x, "sindg"))


def cosdg(x, /):
    """The cosine of an angle ``x`` in degrees, exact at the multiples of 90 (as
    :func:`sindg`). Derivative: ``-pi/180 sindg(x)``."""
    return _in64(lambda x: _lost(x, _sin_cos_degrees(_finite_or_0(x))[1]), _real(x, "cosdg"))


def _finite_or_0(x):
    return _where(fnp.isfinite(x), x, 0.0)


def _tan_degrees(x, cot):
    q, d = _degrees(_finite_or_0(x))
    tn = fnp.tan(d * (math.pi / 180.0))
    # exactly +-1 at the odd multiples of 45, as SciPy (with tan's derivatives)
    half = fnp.abs(fnp.stop_gradient(d)) == 45.0
    tn = _where(half, fnp.add(fnp.subtract(tn, fnp.stop_gradient(tn)), fnp.sign(
        fnp.stop_gradient(d))), tn)
    # tan(90 q + d) = tan(d) for even q, -1/tan(d) for odd q; cot = 1/tan (inf, not -inf,
    # where tan(d) = 0, as SciPy)
    odd = fnp.remainder(q, 2.0) == 1.0
    zero = tn == 0.0
    inv = 1.0 / _where(zero, 1.0, tn)
    if cot:
        out = _where(odd, fnp.negative(tn), _where(zero, _inf, inv))
    else:
        out = _where(odd, _where(zero, _inf, fnp.negative(inv)), tn)
    return _lost(x, out)


def tandg(x, /):
    """The tangent of an angle ``x`` in degrees: exactly 0 at the multiples of 180,
    ``+-1`` at the odd multiples of 45 and ``inf`` (as SciPy, whatever the side) at the odd
    multiples of 90, at any magnitude (SciPy: 0 beyond ``1e14``); nan at ``+-inf`` (SciPy 0).
    Derivative:
    ``pi/180 (1 + tandg(x)**2)``."""
    return _in64(lambda x: _tan_degrees(x, False), _real(x, "tandg"))


def cotdg(x, /):
    """The cotangent of an angle ``x`` in degrees: exactly 0 at the odd multiples of 90,
    ``+-1`` at the odd multiples of 45, ``inf`` at the multiples of 180 (as SciPy), at any
    magnitude (SciPy: 0 beyond ``1e14``); nan at ``+-inf`` (SciPy 0). Derivative:
    ``-pi/180 (1 + cotdg(x)**2)``."""
    return _in64(lambda x: _tan_degrees(x, True), _real(x, "cotdg"))


def radian(d, m, s, /):
    """An angle of ``d`` degrees, ``m`` minutes and ``s`` seconds in radians,
    ``pi/180 (d + m/60 + s/3600)``. Derivatives: ``pi/180``, ``pi/10800``,
    ``pi/648000``."""
    return _weak64("radian", (d, m, s), lambda d, m, s: fnp.multiply(
        fnp.add(fnp.add(d, fnp.divide(m, 60.0)), fnp.divide(s, 3600.0)), math.pi / 180.0),
        ("ddd", "fff"))


def cosm1(x, /):
    """``cos(x) - 1``, accurate near 0 (as ``-2 sin(x/2)**2``): ``cosm1(1e-9)`` is
    ``-5e-19``. nan at ``+-inf``. Derivative: ``-sin(x)``."""
    def f(x):
        h = fnp.sin(0.5 * x)
        return -2.0 * (h * h)
    return _in64(f, _real(x, "cosm1"))


def exp2(x, /):
    """``2**x``. Derivative: ``log(2) 2**x``."""
    return _in64(fnp.exp2, _real(x, "exp2"))


def exp10(x, /):
    """``10**x`` (``functrans.numpy.pow``: correctly rounded where the library's ``pow``
    is). Derivative: ``log(10) 10**x``."""
    return _in64(_exp10, _real(x, "exp10"))


def _exp10(x):
    # (a Python number as the base: the power's rule then takes log(10) as a constant; an
    # array of tens, as before session 57, made its derivative log(select(base == 0, 1,
    # base)) on every element, and exp10 of 10 elements cost 3x exp2's under jvp; the same
    # values: the library's pow of the same two float64 operands)
    return fnp.pow(10.0, x)


def _exprel_series(z):
    """``expm1(z) / z`` by its Taylor series (for ``|z| < 1/2``; 1 at 0)."""
    series = 1.0 / math.factorial(_EXPREL_TERMS + 1)
    for j in range(_EXPREL_TERMS, 0, -1):
        series = series * z + 1.0 / math.factorial(j)
    return series


def exprel(x, /):
    """The relative error exponential ``(exp(x) - 1) / x`` (1 at 0), by its Taylor series
    for ``|x| < 1/2`` (accurate there, derivatives too: ``1/2`` at 0), ``expm1(x) / x``
    beyond, ``(e^(x/2) / x) e^(x/2)`` above 700 (finite up to about 716.35, where
    ``exp(x)`` alone overflowed from 709.78); ``inf`` at ``inf``, 0 at ``-inf``.
    Derivative: ``(x exp(x) - expm1(x)) / x**2``."""
    def f(x):
        small = fnp.abs(x) < 0.5
        xs = _where(small, x, 0.0)
        xl = _where(small, 1.0, x)
        inf = fnp.isinf(xl)
        big = xl > 700.0
        # (each branch sees only its own elements: expm1's infinite slope past 709.78 met a
        # zero cotangent in reverse mode, nan)
        xm = _where(_any(inf, big), 1.0, xl)
        xb = _where(_all(big, fnp.logical_not(inf)), xl, 701.0)
        h = fnp.exp(0.5 * xb)
        far = _where(inf, _where(xl > 0.0, _inf, 0.0),
                     _where(big, fnp.multiply(fnp.divide(h, xb), h),
                            fnp.divide(fnp.expm1(xm), xm)))
        return _where(small, _exprel_series(xs), far)
    return _in64(f, _real(x, "exprel"))


def _reduced_2(x):
    """``x`` minus the nearest even integer (exact): in [-1, 1]."""
    return fnp.subtract(x, 2.0 * fnp.round(fnp.stop_gradient(x) * 0.5))


def _sin_pi(x):
    """``sin(pi x)``, exactly 0 at the integers and accurate near them (the argument reduced
    exactly to ``[-1/2, 1/2]`` first)."""
    r = fnp.subtract(x, 2.0 * fnp.round(fnp.stop_gradient(x) * 0.5))  # [-1, 1]
    r = _where(r > 0.5, fnp.subtract(1.0, r), _where(r < -0.5, fnp.subtract(-1.0, r), r))
    # beyond 1/4 as cos(pi (1/2 - |r|)) (1/2 - |r| exact): so the derivative pi cos(pi x) is
    # exactly 0 at the half-integers, not pi cos(fl(pi / 2)) = 1.9e-16 (d/dk binom(-0.5, k)
    # ~ 1/(2k) was 3.9e-4 off at k = 1e12)
    near = fnp.abs(r) <= 0.25
    inner = fnp.sin(_where(near, r, 0.0) * math.pi)
    rf = _where(near, 0.5, r)
    pos = rf > 0.0
    outer = fnp.cos(fnp.subtract(0.5, _where(pos, rf, fnp.negative(rf))) * math.pi)
    outer = _where(pos, outer, fnp.negative(outer))
    return _where(near, inner, outer)


def rgamma(x, /):
    """The reciprocal of the gamma function, ``1 / Gamma(x)``: 0 at the poles
    ``0, -1, -2, ...`` (with the derivatives of the entire function there:
    ``(-1)**n n!`` at ``-n``), at ``+inf`` (and where it underflows, above about 171.6) and
    at ``-inf``; ``+-inf`` where it overflows (below about -184). ``exp(-gammaln(x))`` for
    ``x >= 1/2`` and ``sin(pi x) Gamma(1 - x) / pi`` below (the reflection formula, with the
    sine's argument reduced exactly), so the relative error grows like
    ``|gammaln| eps``. Derivative: ``-rgamma(x) digamma(x)``."""
    def f(x):
        hi = x >= 0.5
        fin = fnp.isfinite(x)
        xh = _where(_all(hi, fin), x, 1.0)
        xl = _where(_any(hi, fnp.logical_not(fin)), 0.0, x)
        upper = fnp.exp(fnp.negative(_sp.lgamma(xh)))
        g = fnp.exp(_sp.lgamma(1.0 - xl))
        lower = fnp.multiply(_sin_pi(xl), g) * (1.0 / math.pi)
        # (an overflowing Gamma(1 - x) at a pole: 0 * inf; the value there is 0)
        lower = _where(lower == lower, lower, 0.0)
        out = _where(hi, upper, lower)
        return _where(fin, out, _where(x != x, x, 0.0))
    return _in64(f, _real(x, "rgamma"))


def sinc(x, /):
    """The normalized sinc function ``sin(pi x) / (pi x)`` (1 at 0), as SciPy's (NumPy's
    ``sinc``, :func:`functrans.numpy.sinc`). Derivative:
    ``(cos(pi x) - sinc(x)) / x`` (0 at 0)."""
    return fnp.sinc(_real(x, "sinc"))


def _log1p_over(z):
    """``log1p(z) / z`` (1 at 0): its Taylor series ``sum_j (-z)**j / (j + 1)`` for
    ``|z| < 1e-2``, the quotient beyond."""
    small = fnp.abs(z) < 1e-2
    zs = _where(small, z, 0.0)
    series = 0.1
    for j in range(9, 0, -1):
        series = series * fnp.negative(zs) + 1.0 / j
    zl = _where(small, 1.0, z)
    return _where(small, series, fnp.divide(fnp.log1p(zl), zl))


def _inv_boxcox_log(y, lmbda):
    """``log1p(lmbda y) / lmbda`` (``y`` at ``lmbda = 0``), accurate for small ``lmbda y``."""
    return fnp.multiply(y, _log1p_over(fnp.multiply(lmbda, y)))


def _inv_boxcox_edges(y, lmbda, exp, low):
    """``exp`` of :func:`_inv_boxcox_log`; at ``y = +-inf`` the limits (``inf`` for
    ``y = inf``, ``low`` for ``y = -inf``, where ``lmbda y >= 0``; nan elsewhere), as SciPy."""
    inf = fnp.isinf(y)
    out = exp(_inv_boxcox_log(_where(inf, 0.0, y), lmbda))
    limit = _where(fnp.multiply(fnp.sign(y), lmbda) >= 0.0, _where(y > 0.0, _inf, low),
                   math.nan)
    return _where(inf, _where(fnp.isinf(lmbda), math.nan, limit), out)


def inv_boxcox(y, lmbda, /):
    """The inverse of :func:`boxcox`: ``(1 + lmbda y)**(1/lmbda)`` (``exp(y)`` at
    ``lmbda = 0``), as ``exp(y log1p(z)/z)``, ``z = lmbda y``, with the series of
    ``log1p(z)/z`` for ``|z| < 1e-2`` (accurate for small ``lmbda``, derivatives too). nan
    where ``1 + lmbda y < 0``; at ``y = +-inf`` the limits (``inf``, 0) where they exist.
    Derivatives: those of the formula, in both arguments."""
    return _weak64("inv_boxcox", (y, lmbda),
                   lambda y, lm: _inv_boxcox_edges(y, lm, fnp.exp, 0.0))


def inv_boxcox1p(y, lmbda, /):
    """The inverse of :func:`boxcox1p`: ``(1 + lmbda y)**(1/lmbda) - 1`` (``expm1(y)`` at
    ``lmbda = 0``), as ``expm1`` of the logarithm of :func:`inv_boxcox` (accurate for small
    results and small ``lmbda``)."""
    return _weak64("inv_boxcox1p", (y, lmbda),
                   lambda y, lm: _inv_boxcox_edges(y, lm, fnp.expm1, -1.0))


def huber(delta, r, /):
    """Huber's loss: ``r**2 / 2`` for ``|r| <= delta``, ``delta (|r| - delta/2)`` beyond;
    ``inf`` for ``delta < 0``, as SciPy. Derivatives: in ``r``, ``r`` inside and
    ``delta sign(r)`` beyond; in ``delta``, 0 inside and ``|r| - delta`` beyond (continuous
    at ``|r| = delta``)."""
    def f(delta, r):
        if type(delta) in _NUMPY_TYPES and type(r) in _NUMPY_TYPES:
            return _huber_numpy(_plain_numpy(delta), _plain_numpy(r))
        with _np.errstate(all="ignore"):   # (r * r past overflow)
            a = fnp.abs(r)
            inside = fnp.less_equal(a, delta)
            quad = 0.5 * fnp.multiply(r, r)
            lin = fnp.multiply(delta, fnp.subtract(a, 0.5 * delta))
            return _where(delta < 0.0, _inf, _where(inside, quad, lin))
    return _weak64("huber", (delta, r), f)


def _broadcast_scalar(x):
    """A broadcast NumPy array's one value (a NumPy scalar: NumPy's loops for an array and a
    scalar), else the array."""
    return x[(0,) * x.ndim] if x.size and not any(x.strides) else x


def _huber_numpy(delta, r):
    """huber's traced form on plain NumPy operands (broadcast, float64): its operations on
    each element, the same values, in place."""
    if not r.ndim:
        return _huber_numpy(delta.reshape(1), r.reshape(1)).reshape(())
    d = _broadcast_scalar(delta)
    with _np.errstate(all="ignore"):
        a = _np.abs(r)
        inside = a <= d
        out = _np.multiply(r, r)
        out *= 0.5
        a -= 0.5 * d
        _np.multiply(d, a, out=a)
        out = _numpy_where(inside, out, a)
        below = d < 0.0
        if below.any():
            out = _numpy_where(below, _inf, out)
    return out


def pseudo_huber(delta, r, /):
    """The pseudo-Huber loss ``delta**2 (sqrt(1 + (r/delta)**2) - 1)``, computed as
    ``r**2 / (sqrt(1 + (r/delta)**2) + 1)`` (no cancellation for small ``r/delta``, no
    overflow for large ones: ``pseudo_huber(1, 1e200)`` is ``1e200``, SciPy's ``inf``); 0
    for ``delta = 0`` or ``r = 0`` and ``inf`` for ``delta < 0`` whatever the other (also
    nan), nan for ``delta = inf``, as SciPy.
    Derivatives: ``r / sqrt(1 + (r/delta)**2)`` in ``r``; in ``delta``,
    ``2 delta (sqrt(1 + t**2) - 1) - r**2/(delta sqrt(1 + t**2))`` (``t = r/delta``)."""
    def f(delta, r):
        if type(delta) in _NUMPY_TYPES and type(r) in _NUMPY_TYPES:
            return _pseudo_huber_numpy(_plain_numpy(delta), _plain_numpy(r))
        with _np.errstate(all="ignore"):   # (inf / inf, where the value is set)
            return _pseudo_huber_traced(delta, r)
    return _weak64("pseudo_huber", (delta, r), f)


def _pseudo_huber_numpy(delta, r):
    """pseudo_huber's traced form on plain NumPy operands (broadcast, float64): its
    operations on each element, the same values, in place; the edges' values on the
    elements they serve."""
    if not r.ndim:
        return _pseudo_huber_numpy(delta.reshape(1), r.reshape(1)).reshape(())
    d = _broadcast_scalar(delta)
    with _np.errstate(all="ignore"):
        pos = d > 0.0
        ds = d if pos.all() else _np.where(pos, d, 1.0)
        den = _np.divide(r, ds)
        _np.hypot(1.0, den, out=den)
        den += 1.0
        a = _np.abs(r)
        out = _np.multiply(r, r)
        out /= den
        big = a > 1e100
        if big.any():
            at = big.nonzero()
            ab = a[at]
            out[at] = ab * (ab / den[at])
        # (the edges, as the traced form's selects in its order: SciPy's)
        edge = ~((a < _inf) & (d > 0.0) & (d < _inf))   # (and nan)
        if edge.any():
            at = edge.nonzero()
            ae, de = a[at], (d[at] if _np.ndim(d) else d)
            v = _np.where(ae == _inf, _inf, out[at])
            v = _np.where((ae != ae) | (de == _inf), math.nan, v)
            v = _np.where((de == 0.0) | (ae == 0.0), 0.0, _np.where(de != de, math.nan, v))
            out[at] = _np.where(de < 0.0, _inf, v)
    return out


def _pseudo_huber_traced(delta, r):
    pos = delta > 0.0
    ds = _where(pos, delta, 1.0)
    h = fnp.hypot(fnp.ones_like(fnp.stop_gradient(r)), fnp.divide(r, ds))
    den = fnp.add(h, 1.0)
    a = fnp.abs(r)
    big = a > 1e100
    rs = _where(big, 0.0, r)
    out = _where(big, fnp.multiply(a, fnp.divide(a, den)),
                 fnp.divide(fnp.multiply(rs, rs), den))
    out = _where(_any(r != r, delta == _inf), math.nan, _where(a == _inf, _inf, out))
    # (SciPy's order: delta < 0 gives inf, then delta = 0 or r = 0 gives 0, even for a
    # nan delta)
    out = _where(_any(delta == 0.0, r == 0.0), 0.0, _where(delta != delta, math.nan, out))
    return _where(delta < 0.0, _inf, out)


_LOG_MAX = math.log(_np.finfo(_np.float64).max)  # exp overflows beyond
_BINOM_PRODUCT = 20  # integer k below this: the product formula, as SciPy
_BINOM_SHIFT = 20  # binom's small-m recurrence: n + 1 > -9 moved above 10


def _binom_far_log_scale(n1, m1):
    """``log |Gamma(n1) Gamma(m1 - n1) / (pi Gamma(m1))|`` for ``m1 >= 10``, ``m1 - n1 >= 10``
    (lgamma(n1) reflected where n1 is large and negative: no gamma function of a large
    negative argument, see :func:`_binom_general`)."""
    neg = n1 < -9.0
    n1r = _where(neg, n1, -9.5)
    lg_n1 = _where(neg, fnp.subtract(math.log(math.pi) - _sp.lgamma(fnp.subtract(1.0, n1r)),
                                     fnp.log(fnp.abs(_sin_pi(n1r)))),
                   _sp.lgamma(_where(neg, 0.5, n1)))
    general = fnp.add(lg_n1, _log_poch_positive(m1, fnp.negative(n1)))
    # n1 >= 10: log(Gamma(s) / poch(n1, s)), s = m1 - n1 >= 10 (lgamma(n1) and the
    # Pochhammer of -n1 cancelled: binom(1.75e15, k = n + 13) was 72 times off, (1.45e9,
    # n + 11.8) 3e-6)
    pos = n1 >= 10.0
    s = fnp.subtract(m1, n1)
    n1p, sp_ = _where(pos, n1, 10.0), _where(pos, s, 10.0)
    positive = fnp.subtract(_sp.lgamma(sp_), _log_poch_positive(n1p, sp_))
    return _where(pos, positive, general) - math.log(math.pi)


def _binom_far_exponent(n1, m):
    """``log |scale|`` of the far branch of :func:`_binom_general`, whose value is
    ``gamma_sign(n1) scale sin(pi (n1 - m))`` (``binom(n1 - 1, m)``)."""
    return _binom_far_log_scale(n1, fnp.add(m, 1.0))


def _binom_far_factor(n1, m):
    """``sin(pi (n1 - m))`` from ``n1`` and ``m`` each reduced exactly."""
    return _sin_pi(fnp.subtract(_reduced_2(n1), _reduced_2(m)))


def _reflection_ratio(n, m):
    """``sin(pi (n - m)) / sin(pi n)`` (``n`` and ``m`` reduced exactly) of the ``both`` branch
    of :func:`_binom_general`, with the derivatives of ``cos(pi m) - sin(pi m) cot(pi n)``:
    the quotient's second derivative in ``n`` is two terms of size ``pi^2 ratio`` that cancel
    at half-integers (d^2/dn^2 binom(-1e12 - 0.5, 5.25) was 3e-5 off; at whole or
    half-integers cos(pi x) is sin(pi (1/2 - |x|)), exactly 0 at the half-integers)."""
    rn, rm = _reduced_2(n), _reduced_2(m)
    sin_n = _sin_pi(rn)
    ratio = fnp.divide(_sin_pi(fnp.subtract(rn, rm)), sin_n)
    cot_n = fnp.divide(_sin_pi(fnp.subtract(0.5, fnp.abs(rn))), sin_n)
    slopes = fnp.subtract(_sin_pi(fnp.subtract(0.5, fnp.abs(rm))),
                          fnp.multiply(_sin_pi(rm), cot_n))
    return fnp.add(fnp.stop_gradient(ratio), fnp.subtract(slopes, fnp.stop_gradient(slopes)))


def _binom_both_exponent(n, m):
    """``log |poch(-n, m) / Gamma(m + 1)|`` of the ``both`` branch of :func:`_binom_general`
    (``n <= -10``, ``m <= -n``, ``m - n >= 10``), for ``m < -1/2`` with ``1 / Gamma(m + 1)``
    reflected, ``Gamma(-m) / pi`` here and its sine in :func:`_binom_both_factor`; the value
    is the exponential times that factor."""
    low = m < -0.5
    lg = _sp.lgamma(_where(low, fnp.negative(m), fnp.add(m, 1.0)))
    return fnp.add(_log_poch_positive(fnp.negative(n), m),
                   _where(low, fnp.subtract(lg, math.log(math.pi)), fnp.negative(lg)))


def _binom_both_factor(n, m):
    """:func:`_reflection_ratio`, times ``sin(pi (m + 1))`` for ``m < -1/2`` (smooth through
    the poles of ``Gamma(m + 1)``, where the value is 0: the smooth form's digamma
    differences cancelled near them)."""
    ratio = _reflection_ratio(n, m)
    return _where(m < -0.5, fnp.negative(fnp.multiply(ratio, _sin_pi(m))), ratio)


def _binom_big_exponent(n, k):
    """``log |binom(n, k)|`` by Stirling's series (``n - m + 1, n + 1 >= 10``, ``m`` of
    :func:`_binom_m`), of the smooth branch of :func:`_binom_general`."""
    m = _binom_m(n, k)
    return fnp.subtract(_log_poch_positive(fnp.add(fnp.subtract(n, m), 1.0), m),
                        _sp.lgamma(fnp.add(m, 1.0)))


def _binom_big_factor(n, k):
    """The sign of that binomial coefficient, the sign of ``Gamma(m + 1)``."""
    return _gamma_sign(fnp.add(fnp.stop_gradient(_binom_m(n, k)), 1.0))


def _binom_both_exponent_nk(n, k):
    return _binom_both_exponent(n, _binom_m(n, k))


def _binom_both_factor_nk(n, k):
    return _binom_both_factor(n, _binom_m(n, k))


def _poch_exponent(z, m):
    """``log |Gamma(z + m) / Gamma(z)|`` (Stirling's where ``z`` and ``z + m`` are 10 or
    more; an argument below 1/2 reflected, no gamma function of a large negative argument),
    where :func:`poch` is large."""
    s = fnp.add(z, m)
    big = _all(z >= 10.0, s >= 10.0)
    # (poch(-200.5, 200) = 1.1e375: its derivatives were nan, not +-inf)
    return _where(big, _log_poch_positive(_where(big, z, 10.0), _where(big, m, 1.0)),
                  fnp.subtract(_log_abs_gamma(_where(big, 1.0, s)),
                               _log_abs_gamma(_where(big, 1.0, z))))


def _log_abs_gamma(x):
    """log|Gamma(x)|, below 1/2 as log(pi / |sin(pi x)|) - lgamma(1 - x)."""
    low = x < 0.5
    xl = _where(low, x, -0.5)
    return _where(low, fnp.subtract(math.log(math.pi) - fnp.log(fnp.abs(_sin_pi(xl))),
                                    _sp.lgamma(fnp.subtract(1.0, xl))),
                  _sp.lgamma(_where(low, 1.0, x)))


def _poch_factor(z, m):
    """The sign of ``Gamma(z + m) / Gamma(z)``."""
    return fnp.multiply(_gamma_sign(fnp.stop_gradient(z)),
                        _gamma_sign(fnp.stop_gradient(fnp.add(z, m))))


# The branches of binom whose value is exp(E(a, b)) R(a, b) with E large: (E, R) by name.
_EXP_PARTS = {"far": (_binom_far_exponent, _binom_far_factor),
              "both": (_binom_both_exponent_nk, _binom_both_factor_nk),
              "big": (_binom_big_exponent, _binom_big_factor),
              "poch": (_poch_exponent, _poch_factor)}
# exp(E) R through the rule below where E exceeds this: below it neither the value nor the
# product rule's terms (E's and R's first and second derivatives times exp(E), each up to
# about e^45 here) overflow
_EXP_RULE_FROM = _LOG_MAX - 45.0


def _exp_product(kind, a, b, live):
    """``exp(E(a, b)) R(a, b)`` for ``(E, R) = _EXP_PARTS[kind]`` where ``live`` (0 elsewhere;
    ``a`` and ``b`` there are any point of the branch's domain), whose derivatives of every
    order are each one product ``exp(E) P`` (``P`` a finite sum of products of E's and R's
    derivatives, Faa di Bruno's and Leibniz's), the exponential applied last: differentiated
    through the formula, terms of opposite signs each met the overflowing ``exp(E)``,
    inf - inf = nan (``grad(binom, 1)(-1000.5, 1e6 + 0.3)`` in the far branch,
    ``grad(binom, (0, 1))(-3000.37, 340.99)`` in the both branch; second order in every
    transform order). Computed by a custom rule that, where ``live`` is known to hold no
    element (eagerly, and at run time under jit), costs nothing."""
    if not _any_tracer(a, b):
        return _exp_product_value(kind, a, b, live, ())
    a, b, live = fnp.broadcast_arrays(a, b, live)
    return _exp_rule(kind)(a, b, live, ())


def _partitions(items):
    """The partitions of the tuple ``items`` into blocks (tuples)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        yield [(first,)] + part
        for i in range(len(part)):
            yield part[:i] + [(first,) + part[i]] + part[i + 1:]


def _exp_product_value(kind, a, b, live, dirs):
    """The derivative of ``exp(E) R`` (see :func:`_exp_product`) along the directions
    ``dirs`` (pairs ``(da, db)``): ``exp(E) sum_(S subset of dirs) B_S(E) D_(dirs - S) R``,
    ``B_S`` the sum over the partitions of ``S`` of the products of E's derivatives along
    their blocks (``B_() = 1``); the exponential applied last to the finite sum (0 where the
    sum is: a zero direction along an overflowing value, the off-diagonal of a Jacobian, is
    0, not inf * 0; finite where exp(E) overflows but the product does not). Where ``live``
    is known to hold nothing, zeros (under jit this runs at evaluation, where it is)."""
    if _known_none(live):
        return fnp.zeros_like(fnp.add(a, b))
    from ..api import jvp
    exponent, factor = _EXP_PARTS[kind]
    k = len(dirs)
    parts = {(exponent, ()): None, (factor, ()): None}

    def d_along(f, block):
        key = (f, block)
        if parts.get(key) is None:
            if len(block) == 1:  # (with f itself)
                parts[(f, ())], parts[key] = jvp(f, (a, b), dirs[block[0]])
            elif not block:
                parts[key] = f(a, b)
            else:
                g = f
                for i in block:
                    g = (lambda g, v: lambda x, y: jvp(g, (x, y), v)[1])(g, dirs[i])
                parts[key] = g(a, b)
        return parts[key]
    everything = tuple(range(k))
    total = None
    for size in range(k + 1):
        for chosen in _subsets(everything, size):
            rest = tuple(i for i in everything if i not in chosen)
            r = d_along(factor, rest)
            bell = None
            for part in _partitions(chosen):
                term = None
                for block in part:
                    d = d_along(exponent, block)
                    term = d if term is None else fnp.multiply(term, d)
                bell = term if bell is None else fnp.add(bell, term)
            term = r if bell is None else fnp.multiply(bell, r)
            total = term if total is None else fnp.add(total, term)
    e = d_along(exponent, ())
    # exp(E) total as (h total) h, h = exp(E / 2): finite wherever the product is (E up
    # to twice the overflow)
    h = fnp.exp(fnp.multiply(e, 0.5))
    zero = total == 0.0
    return _where(zero, 0.0, fnp.multiply(fnp.multiply(h, _where(zero, 1.0, total)), h))


def _subsets(items, size):
    if size == 0:
        yield ()
        return
    for i in range(len(items)):
        for rest in _subsets(items[i + 1:], size - 1):
            yield (items[i],) + rest


_EXP_RULES = {}


def _exp_rule(kind):
    """The custom_jvp ``(a, b, live, dirs) -> _exp_product_value`` of ``kind``: its tangent in
    ``(a, b)`` the derivative along one more direction, in a direction ``dirs[i]`` the same
    derivative with ``dirs[i]`` replaced (it is multilinear in them); each a ``linear_call``
    whose transpose is again this function (the cotangent as a direction), so that reverse
    mode too applies the overflowing exponential once, last."""
    fn = _EXP_RULES.get(kind)
    if fn is None:
        import functools
        from ..custom import custom_jvp

        from ..primitives.linear_call import linear_call

        def at(res, _):
            if _known_none(res[2]):  # (a and b broadcast: the cheapest zeros)
                return fnp.zeros_like(res[0])
            return _exp_product_value(kind, *res)

        def value(a, b, live, dirs):
            # (one linear_call, linear in nothing, so that staged (jit) it is one equation
            # whose function runs at evaluation, where live's values are known: inlined,
            # the whole value was staged and computed where nothing overflows, ~20 % of
            # jit(vmap(hessian(poch))))
            return linear_call(at, _no_transpose, (a, b, live, dirs), ())
        fn = custom_jvp(value)
        fn.defjvp(functools.partial(_exp_product_jvp, kind), symbolic_zeros=True)
        _EXP_RULES[kind] = fn
    return fn


def _no_transpose(res, ct):  # (linear in nothing: never called)
    raise AssertionError("_exp_rule's value has no linear argument")


def _exp_with(kind, res, i, pair):
    """The rule of ``kind`` at ``res = (a, b, live, dirs)`` with direction ``i`` replaced by
    ``pair`` (appended for ``i == len(dirs)``)."""
    a, b, live, dirs = res
    return _EXP_RULES[kind](a, b, live, dirs[:i] + (tuple(pair),) + dirs[i + 1:])


def _exp_linear(kind, i):
    # (zeros at once where live is known to hold nothing, as _exp_product_value's would be:
    # under jit these run at evaluation, where the rule's call beneath vmap cost ~0.3 ms
    # of jit(vmap(hessian(poch))) each)
    def fun(res, lin):
        if _known_none(res[2]):
            return fnp.zeros_like(lin[0])
        return _exp_with(kind, res, i, lin)

    def transpose(res, ct):
        zero = fnp.zeros_like(ct)
        if _known_none(res[2]):
            return zero, zero
        return (_exp_with(kind, res, i, (ct, zero)), _exp_with(kind, res, i, (zero, ct)))
    return fun, transpose


def _exp_product_jvp(kind, primals, tangents):
    from ..custom import SymbolicZero
    from ..primitives.linear_call import linear_call
    a, b, live, dirs = primals
    t_a, t_b, _, t_dirs = tangents
    out = _EXP_RULES[kind](a, b, live, dirs)
    res = (a, b, live, tuple(tuple(d) for d in dirs))
    tan = None
    for i, (pair, t_pair) in enumerate(zip(((a, b),) + tuple(dirs),
                                           ((t_a, t_b),) + tuple(t_dirs))):
        if all(isinstance(t, SymbolicZero) for t in t_pair):
            continue
        lin = tuple(fnp.zeros_like(p) if isinstance(t, SymbolicZero) else t
                    for p, t in zip(pair, t_pair))
        # (the tangent in (a, b) is a new direction, appended; in dirs[i], dirs[i] replaced)
        fun, transpose = _exp_linear(kind, len(dirs) if i == 0 else i - 1)
        u = linear_call(fun, transpose, res, lin)
        tan = u if tan is None else fnp.add(tan, u)
    if tan is None:
        return out, SymbolicZero.from_primal_value(out)
    return out, tan


def _known_none(mask):
    """Whether the mask's values are known (concrete, or behind JVP / batch tracers) and none
    is true; False under staging (jit), where they are not."""
    return not _may_hold(mask)


def _any_tracer(*args):
    return any(isinstance(a, _Tracer) for a in args)


def _binom_m(n, k):
    """``k``, or ``n - k`` by the symmetry of binom where it is exact and the smaller: for
    ``n >= 0`` and ``n - k < k <= 2 n``, ``n - k > -10`` (binom(1e6 + 0.5, 1e6 + 0.7) was
    8e-10 off by lgamma values of 1.3e7; beyond, the far branch, with no gamma function of a
    large negative argument, whose second derivative SciPy takes time proportional to), and
    for ``n <= -10`` and ``k`` in ``[2 n, n / 2)``, as the reflected
    form's cancellation grows with ``|m|`` (binom(-1e6 - 0.3, -999979.8) is binom(n, -20.5):
    2.2e-9 off -> 3e-14), not near the poles of ``Gamma(k + 1)``, where the derivative in
    ``n`` through both ``n`` and ``n - k`` would cancel; an ``n - k`` rounded near a pole
    would cost digits."""
    nk = fnp.subtract(n, k)
    kc = fnp.stop_gradient(k)
    mirror = _any(_all(n >= 0.0, fnp.less(nk, k), k <= 2.0 * n, nk > -10.0),
                  _all(n <= -10.0, k < 0.5 * n, k >= 2.0 * n,
                       fnp.abs(kc - fnp.round(kc)) >= 1e-3))
    return _where(mirror, nk, k)


def _binom_general(n, m, k):
    """``Gamma(n + 1) / (Gamma(m + 1) Gamma(n - m + 1))`` for ``n + 1`` not a pole: in
    logarithms with the gamma functions' signs (the ratio ``Gamma(n + 1) / Gamma(n - m + 1)``
    by Stirling's series where both are at least 10); where ``m + 1`` or ``n - m + 1`` is a
    pole (the value 0), as ``gamma(n + 1) rgamma(m + 1) rgamma(n - m + 1)``, whose
    derivatives there are those of the entire function ``rgamma``."""
    z = fnp.add(fnp.subtract(n, m), 1.0)
    n1, m1 = n + 1.0, m + 1.0
    # n itself far below 0 and 0 <= m <= |n|: Gamma(n + 1) and Gamma(n - m + 1) both
    # reflected, binom = sin(pi (n - m)) / sin(pi n) poch(-n, m) / Gamma(m + 1), every term of
    # the size of the result (lgamma(n + 1) - lgamma(n - m + 1) cancelled: binom(-99999.5, 20)
    # was 7.6e-11 off, binom(-1e6 - 0.25, 30) 2.6e-9, binom(-1e12 - 0.5, 5.5) 2e-3), smooth
    # through the zeros at the poles of Gamma(n - m + 1), and no gamma function evaluated at a
    # large negative argument (SciPy's trigamma there takes time proportional to it: the
    # second derivative of binom(-1e12 - 0.5, 5.5) did not return)
    # (also a negative m, where the smooth form's lgamma(n + 1) - lgamma(n - m + 1) cancelled
    # as badly: binom(-1980464.01, -24.38) was 4.4e-9 off, its derivatives too; there
    # 1 / Gamma(m + 1) reflected too)
    both = _all(n <= -10.0, fnp.negative(n) >= m, fnp.subtract(m, n) >= 10.0)
    # else n - m + 1 far below 0 (k large against a negative n): 1 / Gamma(z) by reflection,
    # sin(pi z) Gamma(1 - z) / pi, and Gamma(1 - z) / Gamma(m + 1) = Gamma(m + 1 - n1) /
    # Gamma(m + 1) by Stirling's series; sin(pi z) from n + 1 and m each reduced exactly.
    # (lgamma(z) and lgamma(m + 1) cancelled, and pi z rounded: binom(-0.5, 1e12) was 0.1 %
    # off, binom(-2.5, 1e10) 3e-5.) A z that rounded to a pole is not one where sin(pi z) so
    # reduced is not 0 (k beyond 2**53: binom(-0.5, 1e300) is 1/sqrt(pi k), 5.6e-151, not
    # 0); at a true pole the value is 0 with the derivatives of sin(pi z) (binom's second
    # derivative in k at (-0.5, 1e8 + 0.5) was nan).
    far = _all(z <= -9.0, m1 >= 10.0, fnp.logical_not(_any(_is_pole(n1), both)))
    # near a pole of Gamma(z) or Gamma(m + 1) too (within 1e-3, arguments below 100): the
    # digamma differences of the smooth form cancel there (hessian at (1e-12, 3) was -3.9e7,
    # mpmath 0.2222), rgamma is smooth through the poles
    zc, mc = fnp.stop_gradient(z), fnp.stop_gradient(m1)
    near = _all(_any(_all(zc < 0.5, fnp.abs(zc - fnp.round(zc)) < 1e-3),
                     _all(mc < 0.5, fnp.abs(mc - fnp.round(mc)) < 1e-3)),
                fnp.abs(fnp.stop_gradient(n1)) < 100.0, fnp.abs(mc) < 100.0,
                fnp.abs(zc) < 100.0)
    pole = _all(_any(_is_pole(z), _is_pole(m1), near), fnp.logical_not(_any(far, both)))
    smooth_at = fnp.logical_not(_any(pole, far, both))
    # (each branch only where some element may take it: eagerly, and beneath the eager
    # transforms, the others cost nothing; under jit all are staged)
    zero = fnp.zeros_like(fnp.add(n, m))
    smooth = reflected = at_pole = zero
    if _may_hold(smooth_at):
        zs, ms, n1s, m1s = (_where(smooth_at, v, d) for v, d in ((z, 2.0), (m, 1.0), (n1, 3.0),
                                                                 (m1, 2.0)))
        # log|Gamma(n1) / Gamma(z)| by Stirling's series where both are 10 or more; for a small
        # |m| and -9 < n1 < 10 (no pole between n1 and z = n1 - m), shifted up by 20 by the
        # recurrence, log|Gamma(n1) / Gamma(z)| = log(Gamma(n1 + 20) / Gamma(z + 20)) +
        # sum_i log1p(-m / (n1 + i)), each term of m's relative precision (the difference of
        # lgamma values, and of the digamma values in the derivatives, cancelled: d/dn
        # binom(8.5, -1e-12) was 4e-3 off, binom(150.2, -1e-12) 6e-2)
        big = _all(zs >= 10.0, n1s >= 10.0)
        zc, n1c = fnp.stop_gradient(zs), fnp.stop_gradient(n1s)
        # (n1 of 10 or a little more with z below 10 too: neither Stirling's pair nor the
        # shift took it, d2/dn2 binom(9, 7.3e-6) was 2e-9 off)
        shift = _all(fnp.abs(fnp.stop_gradient(ms)) < 0.25, n1c > -9.0,
                     fnp.logical_not(big), _any(n1c > 0.25, fnp.floor(n1c) == fnp.floor(zc)))
        if _may_hold(shift):
            by_lp = _any(big, shift)
            n1h, mh = _where(shift, n1s, 1.0), _where(shift, ms, 0.0)
            steps = None
            for i in range(_BINOM_SHIFT):
                t = fnp.log1p(fnp.divide(fnp.negative(mh), fnp.add(n1h, float(i))))
                steps = t if steps is None else fnp.add(steps, t)
            zb = _where(big, zs, _where(shift, fnp.add(zs, float(_BINOM_SHIFT)), 10.0))
            lp = _where(by_lp, fnp.add(_log_poch_positive(zb, _where(by_lp, ms, 1.0)),
                                       _where(shift, steps, 0.0)),
                        fnp.subtract(_sp.lgamma(_where(by_lp, 1.0, n1s)),
                                     _sp.lgamma(_where(by_lp, 1.0, zs))))
        else:
            lp = _where(big, _log_poch_positive(_where(big, zs, 10.0), _where(big, ms, 1.0)),
                        fnp.subtract(_sp.lgamma(_where(big, 1.0, n1s)),
                                     _sp.lgamma(_where(big, 1.0, zs))))
        sign = fnp.multiply(fnp.multiply(_gamma_sign(n1s), _gamma_sign(m1s)), _gamma_sign(zs))
        e = fnp.subtract(lp, _sp.lgamma(m1s))
        # (where large, Stirling's elements by the rule of _exp_product: in reverse mode the
        # overflowing cotangent met the zero partial derivatives of the masked branches,
        # grad(binom, (0, 1))(1199.79, 495.55) was nan, nan for inf, inf)
        over_s = _all(big, e > _EXP_RULE_FROM)
        smooth = fnp.multiply(fnp.exp(_where(over_s, 0.0, e)), sign)
        if not _known_none(over_s):
            smooth = _where(over_s, _exp_product("big", _where(over_s, n, 20.5),
                                                 _where(over_s, k, 5.0), over_s), smooth)
    if _may_hold(far):
        mf, n1f = _where(far, m, 9.0), _where(far, n1, 0.5)
        sz = _binom_far_factor(n1f, mf)
        lf = _binom_far_exponent(n1f, mf)
        # scale sin(pi z), or where the scale is large, by the rule of _exp_product (the
        # exponential of a masked lf: an inf in the branch not taken would make its zero
        # cotangent nan)
        over = lf > _EXP_RULE_FROM
        sign_f = _gamma_sign(n1f)
        scale = fnp.multiply(sign_f, fnp.exp(_where(over, 0.0, lf)))
        if _known_none(over):  # (the custom rule costs ~40 % of binom's hessian: only if used)
            reflected = fnp.multiply(scale, sz)
        else:
            reflected = _where(over, fnp.multiply(sign_f, _exp_product(
                "far", _where(over, n1f, 0.5), _where(over, mf, 9.0), over)),
                fnp.multiply(_where(over, 1.0, scale), sz))
    if _may_hold(both):
        nb, mb = _where(both, n, -20.5), _where(both, m, 10.0)
        lb = _binom_both_exponent(nb, mb)
        ratio = _binom_both_factor(nb, mb)
        # (the same where poch(-n, m) / Gamma(m + 1) is large: its derivatives' terms overflowed
        # to inf - inf, grad(binom, (0, 1))(-3000.37, 340.99) was nan, nan for -inf, +inf)
        over_b = lb > _EXP_RULE_FROM
        # (a strong zero at the poles: 0 there where the other factor overflows, not 0 * inf,
        # binom(-1e8 - 0.5, 1e8 + 0.5))
        both_value = _mul_sz(fnp.exp(_where(over_b, 0.0, lb)), ratio)
        if not _known_none(over_b):
            # (on n and k themselves: over (n, m) with m = n - k, reverse mode's cotangents
            # of n and m, each infinite, met in n's, inf - inf)
            both_value = _where(over_b, _exp_product("both", _where(over_b, n, -20.5),
                                                     _where(over_b, k, 10.0), over_b),
                                both_value)
        reflected = _where(both, both_value, reflected)
    if _may_hold(pole):
        zp = _where(pole, z, 1.0)
        r_z = rgamma(zp)
        # n - m + 1 = z + ez exactly (two two-sums): beside a pole -p of Gamma(z) the rounding
        # of z decides the value (binom(-1 + 1e-9, 1 + 1e-9): z rounded onto -1, 0 for
        # 1.1e-7; binom(1e-12, 1 + 1e-9) 9e-8 off); rgamma(z + ez) = rgamma(z) + ez (-1)^p p!
        # to first order, ez at most eps |z| (no slope: a constant). Eagerly only: staged, it
        # cost jit(vmap(grad(binom))) 6 % on ordinary points
        if _concrete_behind(n) is not None and _concrete_behind(m) is not None:
            nc_, mc_ = fnp.stop_gradient(n), fnp.stop_gradient(m)
            d = fnp.subtract(nc_, mc_)
            ez = fnp.add(_two_sum_error(nc_, fnp.negative(mc_), d),
                         _two_sum_error(d, fnp.ones_like(d), fnp.stop_gradient(z)))
            p = fnp.negative(fnp.round(fnp.stop_gradient(zp)))
            slope = _where(_all(pole, p >= 0.0), fnp.multiply(_parity(p), fnp.exp(_sp.lgamma(
                fnp.add(_where(p >= 0.0, p, 0.0), 1.0)))), 0.0)
            r_z = fnp.add(r_z, fnp.multiply(_where(pole, ez, 0.0), slope))
        at_pole = fnp.multiply(fnp.multiply(gamma(_where(pole, n1, 1.0)),
                                            rgamma(_where(pole, m1, 1.0))), r_z)
        at_pole = _where(at_pole == at_pole, at_pole, 0.0)
    return _where(_any(far, both), reflected, _where(pole, at_pole, smooth))


def binom(n, k, /):
    """The binomial coefficient ``Gamma(n + 1) / (Gamma(k + 1) Gamma(n - k + 1))`` for real
    ``n`` and ``k``, as SciPy's ``binom``.

    nan for the negative integers ``n`` (and nan); 0 where ``Gamma(k + 1)`` or
    ``Gamma(n - k + 1)`` has a pole and ``Gamma(n + 1)`` has none (so 0 for integers
    ``k < 0`` or ``k > n >= 0``); for ``n = inf``: 0 for ``k < 0``, 1 for ``k = 0``,
    ``inf`` for the integers ``0 < k < 20``, nan otherwise (as SciPy; the limit is ``inf``
    for every ``k > 0``); for ``k = -inf`` 0 (as SciPy: every float that far out is a
    negative integer, where the value is 0; nan for the negative integers ``n``, as
    elsewhere), for ``k = inf`` nan (as SciPy; the limit is 0 for ``n > -1``, none below).
    Derivatives there 0. For an integer
    ``0 <= k < 20`` (``n - k`` for a whole ``n >= 0`` and ``k > n/2``; ``n`` not within
    1e-8 of 0 unless it is 0) the value is the product ``prod_i (n - k + i) / i``, exact
    for integer results, as SciPy's; elsewhere ``sign exp(gammaln(n + 1) - gammaln(m + 1) -
    gammaln(n - m + 1))`` with ``m`` the smaller of ``k`` and ``n - k`` where that is exact
    (see :func:`_binom_m`), the first difference by Stirling's series where ``n - m + 1 >=
    10`` (as :func:`poch`: its precision kept for large ``n``; about 1e-13 relative, growing
    like the size of the logarithm times eps; for ``n`` within 1e-8 of 0 and integer ``k``,
    where ``n - k + 1`` is close to a pole, about 1e-7), by the recurrence and Stirling's
    series for a small ``|m|`` (relative precision kept in ``m``: ``binom(8.5, 1e-12)``'s
    derivatives to 1e-15), and with the gamma functions of negative arguments reflected for
    ``n <= -10``. SciPy's asymptotic forms for ``k > 1e8 |n|`` are not used: there the
    values differ (nan or 0 for SciPy's tiny ones). Where the value or its derivatives
    overflow, they are the signed infinities (``exp(E)`` applied last, see
    :func:`_exp_product`), also in reverse mode.

    Derivatives (any order, in both arguments) are those of the gamma-function formula,
    ``binom (digamma(n + 1) - digamma(n - k + 1))`` in ``n`` and
    ``binom (digamma(n - k + 1) - digamma(k + 1))`` in ``k``, also where the value comes
    from the product, and where the value is 0 at a pole of ``Gamma(k + 1)`` or
    ``Gamma(n - k + 1)`` (from ``rgamma``'s, there: not 0)."""
    def f(n, k):
        bad = _any(_all(n < 0.0, n == fnp.floor(n)), n != n, k != k, k == _inf)
        n_inf = n == _inf
        k_minf = k == -_inf   # (binom(2.08, -inf) was nan, SciPy 0)
        ok = fnp.logical_not(_any(bad, n_inf, k_minf))
        ns, ks = _where(ok, n, 1.0), _where(ok, k, 0.0)
        general = _binom_general(ns, _binom_m(ns, ks), ks)
        kc = fnp.stop_gradient(ks)
        # the product, for integer k in [0, 20) (after the symmetry for a whole n)
        nc = fnp.stop_gradient(ns)
        whole_k = kc == fnp.floor(kc)
        whole_n = _all(nc == fnp.floor(nc), nc > 0.0)
        kx = _where(_all(whole_k, whole_n, kc > 0.5 * nc), nc - kc, kc)
        use = _all(whole_k, _any(fnp.abs(nc) > 1e-8, nc == 0.0), kx >= 0.0,
                   kx < float(_BINOM_PRODUCT))
        kx = _where(use, kx, 0.0)
        num, den = fnp.ones_like(nc), fnp.ones_like(nc)
        for i in range(1, _BINOM_PRODUCT if _may_hold(use) else 1):
            inside = kx >= float(i)
            num = _where(inside, num * (nc - kx + float(i)), num)
            den = _where(inside, den * float(i), den)
        product = num / den
        # (the product's value, the general formula's derivatives, where those are finite)
        smooth = fnp.isfinite(general)
        exact = fnp.add(product, _where(smooth, fnp.subtract(general, fnp.stop_gradient(
            general)), 0.0))
        out = _where(use, exact, general)
        out = _binom_beside_one(ns, ks, out)
        whole = k == fnp.floor(k)
        at_inf = _where(k < 0.0, 0.0, _where(k == 0.0, 1.0, _where(
            _all(whole, k < float(_BINOM_PRODUCT)), _inf, math.nan)))
        out = _where(_any(n_inf, k_minf), _where(k_minf, 0.0, at_inf), out)
        return _where(bad, math.nan, out)
    return _weak64("binom", (n, k), f)


_BESIDE_ONE = 1e-3  # (beyond, binom's second slope in n keeps about eps / |k - 1| of it)


def _binom_beside_one(n, k, out):
    """``out`` (binom(n, k)) with, where ``|k - 1| < 1/1000``, the derivatives of the
    recurrence ``binom(n - 1, k - 1) n / k``: binom is nearly linear in ``n`` there, and the
    general form's second derivative in n, binom's size times a difference of digamma values
    squared and trigamma values, cancelled to eps |binom| / n^2 absolute (d2/dn2 binom(7,
    1 - 1e-9) was 2e-6 off, binom(4, 1 + 1e-12) 1e-3). Eagerly only: staged (jit), the
    general form (this one staged, or run at evaluation by a rule, cost
    jit(vmap(grad(binom))) 2.1x on points far from k = 1)."""
    # (the gate on k's concrete array alone, before any bound operation: the common path's
    # cost, eager and staged)
    kc = _concrete_behind(k)
    if kc is None or _concrete_behind(n) is None or not _some_beside_one(kc):
        return out
    at = _beside_one(n, k)
    if not _may_hold(at):
        return out
    return _where(at, _with_slopes(out, _binom_one_form(n, k)), out)


def _some_beside_one(v):
    """Whether some element of the concrete array ``v`` is within 1/1000 of 1 but not 1."""
    def test(xp, v):
        d = xp.abs(v - 1.0)
        return xp.logical_and(d < _BESIDE_ONE, d > 0.0)
    return _holds_somewhere(v, test)


def _beside_one(n, k):
    # (not beside n = 0, -1, ...: binom(n - 1, .) is nan at the negative integers; the
    # general form's rgamma branch takes them. Not below n = -20, as tried. Not at k = 1
    # itself, a common integer: staged, one such element among many made the whole batch
    # take this form at evaluation, jit(vmap(grad(binom))) 4.1 -> 19.8 ms for 1000; there
    # the second slope in n is 0 within eps |binom| / n^2)
    kc, nc = fnp.stop_gradient(k), fnp.stop_gradient(n)
    return _all(fnp.abs(fnp.subtract(kc, 1.0)) < _BESIDE_ONE, kc != 1.0, fnp.isfinite(nc),
                nc > -20.0, _any(nc > 0.5, fnp.abs(fnp.subtract(nc, fnp.round(nc))) >= 1e-3))


def _binom_one_form(n, k):
    """``binom(n - 1, k - 1) n / k`` where ``k`` is beside 1 (0 elsewhere): binom's small-m
    form keeps ``k - 1``'s relative precision in its slopes."""
    at = _beside_one(n, k)
    n, k = _where(at, n, 2.5), _where(at, k, 1.0)
    value = fnp.divide(fnp.multiply(binom(fnp.subtract(n, 1.0), fnp.subtract(k, 1.0)), n), k)
    return _where(at, value, 0.0)


def zetac(x, /):
    """``zeta(x) - 1`` (the Riemann zeta function minus 1), accurate for large ``x``: for
    ``x > 1`` it is the Hurwitz zeta function ``zeta(x, 2) = sum_(k >= 2) k**-x``, computed
    directly (``zetac(60)`` is ``8.67e-19``, where ``zeta(60) - 1`` is 0); for ``x < 1``
    ``zeta(x) - 1`` (see :func:`zeta`). ``inf`` at 1, 0 at ``inf``, nan at ``-inf`` and nan,
    as SciPy. Differentiable in ``x`` as :func:`zeta` is (0 at ``inf``, nan at 1)."""
    def f(x):
        above = x > 1.0
        # (inf replaced too: the derivative there is the edge's 0, not the series' nan)
        high = _sp.zeta(_where(_all(above, x != _inf), x, 2.0), fnp.full_like(x, 2.0))
        low = fnp.subtract(zeta(_where(above, 0.0, x)), 1.0)
        out = _where(above, _where(x == _inf, 0.0, high), low)
        return _where(x == 1.0, _inf, _where(_any(x == -_inf, x != x), math.nan, out))
    return _in64(f, _real(x, "zetac"))


# -- special18c: Bessel functions of integer order: j0, j1, y0, y1, yn, k0, k0e, k1, k1e -------

_BESSEL_VALUES = """Values from SciPy on NumPy, cupyx on CuPy, ``torch.special``'s for ``k0``,
    ``k0e``, ``k1``, ``k1e`` on torch (its ``bessel_j0``, ``bessel_y0``... are accurate to
    about 2e-6 only: not used), else the generic version of
    :mod:`functrans.backends.special_generic` ({method}). Near a zero every library's is
    about 1e-16 absolute off (SciPy's from 25 about ``x eps`` relative to the envelope), so
    that many ulp of the small value there were wrong (SciPy's ``j0(52.616)`` 2733 ulp, at
    the float64 nearest a zero every digit): float64 ``x`` within 0.05 of one of the first
    40 zeros (``x`` below about 126) are Taylor's polynomial about the tabulated zero (2 ulp
    of mpmath), within 0.02 (of the phase) of another below 1e8 the phase-amplitude form
    (the asymptotic series of the modulus and the phase, the phase from the zero in parts:
    2.5 ulp, also at the float64 nearest a zero: :mod:`functrans.backends.bessel_zeros`);
    just outside those windows the libraries' own
    (up to about 50 ulp; SciPy's from 25 up to about ``x eps`` relative to the envelope).
    float32 input is computed in float64 and rounded once; integers give float64."""


def _second_kind(name, prim, x, at0, at_inf):
    """A Bessel function defined for ``x > 0``: nan below 0 and at nan, ``at0`` at 0,
    ``at_inf`` at ``inf``; elsewhere the primitive (which sees those points as 1)."""
    def f(x):
        if type(x) is _np.ndarray and x.size and x.min() > 0.0 and x.max() < _inf:
            return prim(x)   # (every element inside, nan none: two reductions, not the
            #                   guards' ten passes; the same values)
        ok = _all(x > 0.0, x < _inf)
        out = prim(_where(ok, x, 1.0))
        out = _where(x == 0.0, at0, _where(x == _inf, at_inf, out))
        return _where(_any(x < 0.0, x != x), math.nan, out)
    return _in64(f, _real(x, name))


def j0(x, /):
    """The Bessel function of the first kind of order 0, ``J_0(x)`` (even); nan at ``+-inf``
    and nan, as SciPy. Derivative: ``-j1(x)``.
    """
    return _in64(_sp.j0, _real(x, "j0"))   # (every backend's: nan at +-inf and nan)


j0.__doc__ += "\n    " + _BESSEL_VALUES.format(
    method="``jv``'s: the power series, Miller's recurrence and Hankel's expansion; about "
           "1e-14 relative to the envelope ``min(1, sqrt(2 / (pi |x|)))``, 5e-13 near "
           "``x = 1e4`` (the rounding of a large ``x``)")


def j1(x, /):
    """The Bessel function of the first kind of order 1, ``J_1(x)`` (odd); nan at ``+-inf``
    and nan, as SciPy. Derivative: ``j0(x) - j1(x)/x`` (1/2 at 0).
    """
    return _in64(_sp.j1, _real(x, "j1"))   # (every backend's: nan at +-inf and nan)


j1.__doc__ += "\n    " + _BESSEL_VALUES.format(method="as :func:`j0`'s")


_Y_METHOD = ("its power series up to 2, Neumann's series ``Y_0 = 2/pi ((log(x/2) + gamma) J_0 "
             "- 2 sum_k (-1)^k J_2k / k)`` (and its derivative for ``Y_1``) with the ``J_n`` "
             "of Miller's recurrence up to 25, Hankel's expansion beyond; about 1e-14 "
             "relative to the envelope ``sqrt(2 / (pi x))`` away from 0, 5e-13 near "
             "``x = 1e4``")


def y0(x, /):
    """The Bessel function of the second kind of order 0, ``Y_0(x)``, for ``x > 0``:
    ``-inf`` at 0, nan for ``x < 0``, at ``inf`` and nan, as SciPy. Derivative:
    ``-y1(x)``.
    """
    return _second_kind("y0", _sp.y0, x, -_inf, math.nan)


y0.__doc__ += "\n    " + _BESSEL_VALUES.format(method=_Y_METHOD)


def y1(x, /):
    """The Bessel function of the second kind of order 1, ``Y_1(x)``, for ``x > 0``:
    ``-inf`` at 0, nan for ``x < 0``, at ``inf`` and nan, as SciPy. Derivative:
    ``y0(x) - y1(x)/x``.
    """
    return _second_kind("y1", _sp.y1, x, -_inf, math.nan)


y1.__doc__ += "\n    " + _BESSEL_VALUES.format(method=_Y_METHOD)


_K_METHOD = ("the power series up to 1, the trapezoidal rule on "
             "``exp(x) K_nu(x) = int_0^inf exp(-2 x sinh(t/2)**2) cosh(nu t) dt`` (whose "
             "integrand is analytic in a strip: geometric convergence) up to 25, the "
             "asymptotic expansion beyond; about 2e-15 relative")


def k0(x, /):
    """The modified Bessel function of the second kind of order 0, ``K_0(x)``, for
    ``x > 0``: ``inf`` at 0, 0 at ``inf`` (and where it underflows, beyond about 705), nan
    for ``x < 0`` and nan, as SciPy. Derivative: ``-k1(x)``.
    """
    return _second_kind("k0", _sp.k0, x, _inf, 0.0)


k0.__doc__ += "\n    " + _BESSEL_VALUES.format(method=_K_METHOD)


def k0e(x, /):
    """The exponentially scaled ``exp(x) K_0(x)`` (finite for all ``x > 0``, about
    ``sqrt(pi / (2x))`` for large ``x``): ``inf`` at 0, 0 at ``inf``, nan below 0, as
    SciPy. Derivative: ``k0e(x) - k1e(x)``.
    """
    return _second_kind("k0e", _sp.k0e, x, _inf, 0.0)


k0e.__doc__ += "\n    " + _BESSEL_VALUES.format(method=_K_METHOD)


def k1(x, /):
    """The modified Bessel function of the second kind of order 1, ``K_1(x)``, for
    ``x > 0`` (edges as :func:`k0`'s). Derivative: ``-k0(x) - k1(x)/x``.
    """
    return _second_kind("k1", _sp.k1, x, _inf, 0.0)


k1.__doc__ += "\n    " + _BESSEL_VALUES.format(method=_K_METHOD)


def k1e(x, /):
    """The exponentially scaled ``exp(x) K_1(x)`` (edges as :func:`k0e`'s). Derivative:
    ``k1e(x) (1 - 1/x) - k0e(x)``.
    """
    return _second_kind("k1e", _sp.k1e, x, _inf, 0.0)


k1e.__doc__ += "\n    " + _BESSEL_VALUES.format(method=_K_METHOD)


def _integer_order(n, name):
    """An integer order given as a Python number or a concrete array (its values set the
    length of the recurrence), truncated towards 0 as SciPy's C int: a float64 array or
    a Python float, and whether it was a Python int (SciPy's ``ld->d`` loop: float64)."""
    if isinstance(n, _Tracer):
        raise TypeError(f"{name}: the order n must be concrete (a Python int or an integer "
                        f"array, not a traced value): it sets the length of the recurrence; "
                        f"the function has no derivative in n")
    if type(n) is bool or type(n) is int:
        return float(n), True
    if type(n) is float:
        return (float(math.trunc(n)) if math.isfinite(n) else n), False
    if type(n) is complex:
        raise TypeError(f"{name}: complex input is not supported (real only)")
    d = _dtype(n)
    if d.kind == "c":
        raise TypeError(f"{name}: complex input ({d.name}) is not supported")
    return n, False


def _concrete_values(a):
    """The values of a concrete array of any backend, as a list of Python floats."""
    from ..backends import backend_of
    return [float(v) for v in backend_of(a).to_numpy(a).reshape(-1)]


# yn's recurrence: on concrete values (no transform, or at the bottom of a derivative's rule)
# at most _YN_MAX_STEPS steps (a cost bound: about 0.03 s for a scalar, 1 s for a small array;
# before session 56 at most 10000, yn(20000, 3e4) nan); staged (jit, vmap) a graph of at most
# _YN_MAX_ORDER steps. Beyond, an element whose value has not overflowed is nan.
_YN_MAX_ORDER = 10000
_YN_MAX_STEPS = 200_000
_YN_OVERFLOWED = 1200.0
# below this order the derivatives go through the recurrence's operations (grad of yn(3, x):
# 1.5 ms, the custom rule's three runs 2.2; of yn(30, x) 7 ms through them, 1.9 by the rule)
_YN_RULE_FROM = 8


def yn(n, x, /):
    """The Bessel function of the second kind of integer order ``n``, ``Y_n(x)``, for
    ``x > 0``.

    ``n`` is a Python number or a concrete array (its values set the recurrence's length;
    a traced ``n``: TypeError), truncated towards 0 as SciPy does (``yn(2.5, x)`` is
    ``yn(2, x)``); ``Y_-n = (-1)**n Y_n``. As SciPy: ``-inf`` at ``x = 0`` (``+inf`` for
    the negative odd orders), nan for ``x < 0``, at ``inf`` and nan; ``-inf`` where the
    value overflows (large ``n``, small ``x``). A Python int ``n`` gives float64, as SciPy's
    ``ld->d`` loop. Computed by the upward recurrence ``Y_(k+1) = 2k/x Y_k - Y_(k-1)`` from
    :func:`y0` and :func:`y1` (stable for ``Y``): within 1.4e-13 of mpmath for ``n`` up to
    1e5 and ``x`` from ``n / 10`` to ``10 n`` (SciPy's, the same recurrence from other
    ``y0``, ``y1``: 2e-11 at ``n = 1e5``, ``x = 1e6``). Its derivative in ``x``,
    ``(Y_(n-1) - Y_(n+1)) / 2`` (``+inf`` where the value overflowed), by the same
    recurrence: any order. None in ``n``. The recurrence stops once every element of a
    higher order has overflowed (``-inf`` from there); ``-inf`` at once for ``|n| >= 1200``
    with ``|n| >= 3x`` (overflowed for sure) and for ``n = inf`` (the limit; ``n = -inf``:
    nan, the sign alternates). At most 200000 steps; beyond, Debye's expansions in ``n``
    (with a short recurrence through the turning point ``x ~ n``: see _yn_large), within
    ~2e-13 of mpmath up to ``x = 1.01 n``, 1e-9 at ``x = 3.3 n`` (a phase ~6e5 rounded)
    (before session 57 nan: ``yn(300000, 1e6)``). Under ``jit`` and ``vmap`` at most 10000
    steps (a graph of that length), beyond which an order whose value has not overflowed
    gives nan (before session 55 ``yn(1e300, 2)`` ran without end; before session 56
    ``yn(20000, 3e4)`` was nan)."""
    order, python_int = _integer_order(_array_like(n), "yn")
    # (the recurrence's length, from the concrete orders: before x's batching reaches them)
    if type(order) is float:
        top = int(abs(order)) if math.isfinite(order) else 0
    else:
        values = [abs(math.trunc(v)) for v in _concrete_values(order) if math.isfinite(v)]
        top = int(max(values, default=0))
    if python_int or type(order) is float:
        x = _real(x, "yn")
        if python_int:
            x = fnp.astype(x, _dt.float64)
        nf = fnp.full_like(fnp.stop_gradient(x), order)
    else:
        nf, x = _real_weak((order, x), "yn")
        x = fnp.broadcast_to(x, nf.shape) if tuple(x.shape) != tuple(nf.shape) else x
    nf = fnp.stop_gradient(nf)

    def f(nf, x):
        ok = _all(x > 0.0, x < _inf)
        xs = _where(ok, x, 1.0)
        nt = fnp.trunc(_where(fnp.isfinite(nf), nf, 0.0))
        m = fnp.abs(nt)
        # (overflowed for sure: from |n| = 3x, |Y_n| ~ e^(0.82 |n|) at least, past the
        # largest float from |n| = 1200 (Debye's form); and n = +inf, the limit)
        sure = _any(_all(m >= _YN_OVERFLOWED, m >= fnp.multiply(xs, 3.0)), nf == _inf)
        out = _yn_orders(_where(sure, -1.0, m), xs, top)
        odd = fnp.remainder(m, 2.0) == 1.0
        flip = fnp.logical_and(nt < 0.0, odd)
        out = _where(flip, fnp.negative(out), out)
        at0 = _where(flip, _inf, -_inf)
        out = _where(x == 0.0, at0, out)
        return _where(_any(x < 0.0, x != x, x == _inf, nf != nf, nf == -_inf), math.nan,
                      out)
    if _dtype(x) in _LOW:
        return _in64_many(f, (nf, x))
    return f(nf, x)


def _yn_orders(m, x, top):
    """``Y_m(x)`` for integer orders ``0 <= m <= top`` and finite ``x > 0`` (arrays of one
    shape; ``-inf`` where overflowed and where ``m = -1``, an order known to overflow; nan
    past the steps allowed): on concrete values a loop
    on the backend's arrays; under a transform a custom rule, ``(Y_(m-1) - Y_(m+1)) / 2``,
    so that the derivatives (any order) are recurrences on concrete values too, with no
    graph of the recurrence's length (before session 56: 1e4 steps at most, a graph of 6
    operations a step under grad)."""
    if not _any_tracer(m, x):
        return _yn_concrete(m, x, top)
    if top < _YN_RULE_FROM:   # (a few steps: through them, cheaper than the rule's runs)
        return _yn_traced_or_concrete(m, x, top)
    from ..custom import custom_jvp
    fn = custom_jvp(functools.partial(_yn_traced_or_concrete, top=top))
    fn.defjvp(functools.partial(_yn_orders_jvp, top=top))
    return fn(m, x)


def _yn_orders_jvp(primals, tangents, top):
    m, x = primals
    down, up = fnp.abs(fnp.subtract(m, 1.0)), fnp.add(m, 1.0)
    if not _any_tracer(m, x):   # (first order: the three orders in one run, y0 and y1 once)
        xp = _backend_of(x).xp
        shape = tuple(x.shape)
        flat = [xp.reshape(a, (-1,)) for a in (down, m, up)]
        three = _yn_concrete(xp.concat(flat), xp.concat([xp.reshape(x, (-1,))] * 3), top + 1)
        size = math.prod(shape)
        below, out, above = (xp.reshape(three[i * size:(i + 1) * size], shape)
                             for i in range(3))
    else:
        out = _yn_orders(m, x, top)
        below = _yn_orders(down, x, top)
        above = _yn_orders(up, x, top + 1)
    below = _where(m == 0.0, fnp.negative(below), below)       # (Y_-1 = -Y_1)
    slope = fnp.multiply(fnp.subtract(below, above), 0.5)
    # (overflowed: Y_m -> -inf rising, where both neighbours are -inf too)
    slope = _where(out == -_inf, _inf, slope)
    return out, _mul_sz(slope, tangents[1])


def _yn_traced_or_concrete(m, x, top):
    if not _any_tracer(m, x):
        return _yn_concrete(m, x, top)
    # (staged, or batched: the recurrence as operations, a graph of at most _YN_MAX_ORDER steps)
    prev, cur = y0(x), y1(x)
    out = _where(m == 0.0, prev, cur)
    last = 1   # (cur is Y_last)
    for k in range(1, min(top, _YN_MAX_ORDER)):
        new = fnp.subtract(fnp.multiply(fnp.divide(2.0 * k, x), cur), prev)
        new = _where(fnp.isfinite(cur), new, cur)  # (past an overflow: -inf, not nan)
        prev, cur = cur, new
        last = k + 1
        out = _where(m == float(last), cur, out)
        # (done once every element wanting a higher order has overflowed, which it stays,
        # where the values are known)
        if not k % 64 and _known_none(_all(m > float(last), fnp.isfinite(cur))):
            break
    if top > last:   # (the higher orders: -inf where overflowed, else not computed)
        out = _where(m > float(last), _where(fnp.isfinite(cur), math.nan, cur), out)
    return _where(m < 0.0, -_inf, out)


def _yn_concrete(m, x, top):
    """:func:`_yn_orders` on concrete arrays of a backend: one scalar by Python floats (the
    same roundings as NumPy's), else the backend's operations; each order's elements read
    when the recurrence reaches it; stopping (every 4096 steps) once every element of a
    higher order has overflowed. Past an overflow the recurrence gives nan (-inf - -inf):
    the values met are finite until then (y0, y1 at finite x > 0), so any non-finite one is
    an overflow (to -inf: Y_m < 0 for x < m). About 0.1 us a step for a scalar, 1.5 us for
    a small NumPy array."""
    b = _backend_of(x)
    xp = b.xp
    orders = b.to_numpy(m).reshape(-1)
    big = orders > _YN_MAX_STEPS
    if big.any():
        # (orders past the recurrence's bound: Debye's expansions, _yn_large; the others
        # by the recurrence up to their own largest order)
        far = m > float(_YN_MAX_STEPS)
        rest = _yn_concrete(xp.where(far, xp.zeros_like(m), m), x,
                            int(orders[~big].max(initial=0.0)))
        return xp.where(far, _yn_large(b, xp.where(far, m, xp.full_like(m, 2.0 * _YN_MAX_STEPS)),
                                       x), rest)
    steps = min(top, _YN_MAX_STEPS)
    prev, cur = y0(x), y1(x)
    if not len(orders):
        return prev
    if len(orders) == 1:
        want = int(orders[0])
        xv = float(b.to_numpy(x).reshape(-1)[0])
        a, c = float(b.to_numpy(prev).reshape(-1)[0]), float(b.to_numpy(cur).reshape(-1)[0])
        k, end = 1, min(want, steps)
        while k < end and math.isfinite(c):
            for k in range(k, min(k + 4096, end)):
                a, c = c, (2.0 * k) / xv * c - a
            k += 1
        value = -_inf if not math.isfinite(c) else c if k >= want else math.nan
        if want <= 1:
            value = -_inf if want < 0 else a if want == 0 else c
        return xp.reshape(xp.asarray(value, dtype=x.dtype, device=x.device), x.shape)
    lo, hi = float(orders.min()), float(orders.max())
    wanted = set(int(o) for o in (_np.unique(orders) if lo != hi else (hi,)) if o >= 2.0)
    numpy = isinstance(x, _np.ndarray)
    out = xp.where(m == 0.0, prev, cur)
    last = 1
    token = _ERR_STATE.set(_ERR_IGNORE) if numpy and _ERR_STATE is not None else None
    try:
        if numpy:
            prev, cur, new = prev.copy(), cur.copy(), _np.empty_like(x)
        for k in range(1, steps):
            if numpy:
                _np.divide(2.0 * k, x, out=new)
                new *= cur
                new -= prev
                prev, cur, new = cur, new, prev
            else:
                prev, cur = cur, (2.0 * k) / x * cur - prev
            last = k + 1
            if last in wanted:
                out = xp.where(m == float(last), cur, out)
                wanted.discard(last)
            if not wanted or (not k % 4096 and not bool(b.to_numpy(
                    xp.any((m > float(last)) & xp.isfinite(cur))))):
                break
    finally:
        if token is not None:
            _ERR_STATE.reset(token)
    out = xp.where(xp.isfinite(out), out, xp.full_like(out, -_inf))
    if top > last:
        beyond = xp.where(xp.isfinite(cur), xp.full_like(cur, math.nan),
                          xp.full_like(cur, -_inf))
        out = xp.where(m > float(last), beyond, out)
    return xp.where(m < 0.0, xp.full_like(out, -_inf), out)


# yn past _YN_MAX_STEPS (before session 57 nan: yn(300000, 1e6), SciPy 8.667e-5): Debye's
# expansions in the order n (DLMF 10.19.3, 10.19.6; the polynomials U_k of special_generic),
# away from the turning point x = n by a relative margin 12 n^(-2/3) (n tanh(a)^3 ~ 117, where
# ten terms reach the rounding): for x < n, x = n sech(a),
#   Y_n = -e^(n (a - tanh a)) / sqrt(pi n tanh(a) / 2) sum_k (-1)^k U_k(coth a) / n^k;
# for x > n, x = n sec(b), xi = n (tan b - b) - pi / 4,
#   Y_n = sqrt(2 / (pi n tan b)) (sin(xi) sum_k U_2k(i cot b) / n^2k
#                                  + i cos(xi) sum_k U_2k+1(i cot b) / n^(2k+1)),
# n tanh(a), n tan(b) as sqrt(|x - n| (x + n)) (x - n exact), n (a - tanh a) and
# n (tan b - b) by their series in w = tanh a, tan b below 1/2 (no cancellation). Within the
# margin, from the order n0 = x / (1 + 13 x^(-2/3)) (Y_n0, Y_n0+1 by the x > n form) up the
# recurrence (stable upward for Y), some 25 x^(1/3) steps (2500 at x = 1e6). Within ~2e-13
# of mpmath for x up to 1.01 n (the exponent's or the phase's rounding), 1.5e-11 at x = 2 n
# (the phase n (tan b - b) ~ 1e5 rounded; SciPy's 2e-11 at (1e5, 1e6)).
_YN_DEBYE = None
_YN_DEBYE_MARGIN = 12.0


def _yn_debye_polys():
    global _YN_DEBYE
    if _YN_DEBYE is None:
        from ..backends.special_generic import _debye_polynomials
        polys = _debye_polynomials(10)
        # U_k(i q): its powers q^j have j's parity k's; i^j = (-1)^(j // 2) (times i for odd
        # j): U_k(i q) is that real polynomial, times i for odd k
        _YN_DEBYE = (polys, tuple(tuple(c * (-1.0) ** (j // 2) for j, c in enumerate(u))
                                  for u in polys))
    return _YN_DEBYE


def _odd_series_tail(xp, w, sign):
    """``atanh(w) - w`` (sign 1) or ``w - atan(w)`` (sign -1) for ``0 <= w``: by the series
    ``sum_k sign^k w^(2k+1) / (2k+1)`` (k >= 1) below 1/2, directly above."""
    small = w < 0.5
    ws = xp.where(small, w, xp.zeros_like(w))
    w2 = ws * ws
    term, total = ws * w2, xp.zeros_like(w)
    for k in range(3, 58, 2):   # (0.25^27 < 1e-16)
        total = total + term / float(k)
        term = term * w2 if sign > 0 else -(term * w2)
    direct = (xp.atanh(xp.where(small, xp.full_like(w, 0.75), w)) - w if sign > 0
              else w - xp.atan(w))
    return xp.where(small, total, direct)


def _yn_debye_side(xp, n, x, below):
    """Y_n(x) by Debye's form for x < n (``below``) or x > n (see above); arrays."""
    polys, rotated = _yn_debye_polys()
    s = xp.sqrt(xp.abs(x - n) * (x + n))
    p = n / s
    power = xp.ones_like(x)
    even, odd = xp.zeros_like(x), xp.zeros_like(x)
    for k in range(len(polys)):
        coefs = polys[k] if below else rotated[k]
        val = xp.zeros_like(x)
        for c in reversed(coefs):
            val = val * p + c
        if below:
            even = even + (val * power if k % 2 == 0 else -(val * power))
        elif k % 2 == 0:
            even = even + val * power
        else:
            odd = odd + val * power
        power = power / n
    w = s / n
    if below:
        expo = n * _odd_series_tail(xp, w, 1)
        return -(xp.exp(expo) * even) / xp.sqrt((0.5 * math.pi) * s)
    xi = n * _odd_series_tail(xp, w, -1) - 0.25 * math.pi
    # (i cos(xi) i^1 sum ... = -cos(xi) times the odd terms' real polynomials)
    return xp.sqrt(2.0 / (math.pi * s)) * (xp.sin(xi) * even - xp.cos(xi) * odd)


def _yn_large(b, m, x):
    """Y_m(x) for concrete orders m > _YN_MAX_STEPS and finite x > 0 (see above)."""
    xp = b.xp
    numpy = isinstance(x, _np.ndarray)
    token = _ERR_STATE.set(_ERR_IGNORE) if numpy and _ERR_STATE is not None else None
    try:
        margin = _YN_DEBYE_MARGIN * m ** (-2.0 / 3.0)
        below = x <= m * (1.0 - margin)
        above = x >= m * (1.0 + margin)
        one = xp.ones_like(x)
        # (each form at points it serves; elsewhere stand-ins inside its range)
        low = _yn_debye_side(xp, xp.where(below, m, 2.0 * one), xp.where(below, x, one), True)
        high = _yn_debye_side(xp, xp.where(above, m, one), xp.where(above, x, 2.0 * one),
                              False)
        out = xp.where(below, low, high)
        near = ~(below | above)
        if bool(b.to_numpy(xp.any(near))):
            xn = xp.where(near, x, xp.full_like(x, 1e6))
            mn = xp.where(near, m, xp.full_like(m, 1e6))
            n0 = xp.floor(xn / (1.0 + (_YN_DEBYE_MARGIN + 1.0) * xn ** (-2.0 / 3.0)))
            prev = _yn_debye_side(xp, n0, xn, False)
            cur = _yn_debye_side(xp, n0 + 1.0, xn, False)
            steps = int(b.to_numpy(xp.max(mn - n0 - 1.0)))
            k = n0 + 1.0   # (cur is Y_k)
            for _ in range(steps):
                go = k < mn
                new = (2.0 * k) / xn * cur - prev
                prev, cur = xp.where(go, cur, prev), xp.where(go, new, cur)
                k = xp.where(go, k + 1.0, k)
            out = xp.where(near, cur, out)
        return xp.where(xp.isfinite(out), out, xp.full_like(out, -_inf))
    finally:
        if token is not None:
            _ERR_STATE.reset(token)


# -- special18d: complete elliptic integrals ellipk, ellipkm1, ellipe ---------------------------

_AGM_STEPS = 24  # the AGM of 1 and b converges (quadratically) within this for 1e-150 <= b <= 1e150


def _agm(b):
    """The arithmetic-geometric means of ``1`` and ``b > 0``, with the sum
    ``sum_(n >= 1) 2^(n-1) c_n^2`` of the halved differences ``c_n = (a_(n-1) - b_(n-1)) / 2``
    (for ``ellipe``): a fixed number of steps, so that the derivatives come from the
    iteration itself (they converge with it)."""
    a = fnp.ones_like(b)
    total = fnp.zeros_like(b)
    weight = 1.0
    for _ in range(_AGM_STEPS):
        c = 0.5 * fnp.subtract(a, b)
        total = fnp.add(total, weight * fnp.multiply(c, c))
        weight *= 2.0
        a, b = 0.5 * fnp.add(a, b), fnp.sqrt(fnp.multiply(a, b))
    return a, total


def _ellipk_of(p):
    """``K(1 - p) = pi / (2 AGM(1, sqrt(p)))`` for ``0 < p < inf``."""
    return math.pi / (2.0 * _agm(fnp.sqrt(p))[0])


def ellipkm1(p, /):
    """The complete elliptic integral of the first kind at ``m = 1 - p``,
    ``K(1 - p) = integral_0^(pi/2) (1 - (1 - p) sin(t)**2)**(-1/2) dt``, accurate for small
    ``p`` (where ``m`` would round to 1): ``pi / (2 AGM(1, sqrt(p)))``, the arithmetic-
    geometric mean in a fixed number of steps.

    As SciPy: ``inf`` at ``p = 0``, 0 at ``p = inf``, nan for ``p < 0`` and nan. Derivatives
    (any order) come from the AGM iteration: ``dK/dp = (p K - E) / (2 p (1 - p))``
    (with ``E = ellipe(1 - p)``). About 1e-15 relative."""
    def f(p):
        ok = _all(p > 0.0, p < _inf)
        out = _ellipk_of(_where(ok, p, 1.0))
        out = _where(p == 0.0, _inf, _where(p == _inf, 0.0, out))
        return _where(_any(p < 0.0, p != p), math.nan, out)
    return _in64(f, _real(p, "ellipkm1"))


def ellipk(m, /):
    """The complete elliptic integral of the first kind
    ``K(m) = integral_0^(pi/2) (1 - m sin(t)**2)**(-1/2) dt`` for ``m <= 1`` (negative ``m``
    included), as ``ellipkm1(1 - m)`` (for ``m`` close to 1 use :func:`ellipkm1`, which
    takes ``1 - m`` exactly).

    As SciPy: ``inf`` at 1, 0 at ``-inf``, nan for ``m > 1`` and nan. Derivative:
    ``(E - (1 - m) K) / (2 m (1 - m))`` (``pi/8`` at 0), from the AGM iteration (any
    order)."""
    def f(m):
        ok = _all(m < 1.0, m > -_inf)
        out = _ellipk_of(fnp.subtract(1.0, _where(ok, m, 0.0)))
        out = _where(m == 1.0, _inf, _where(m == -_inf, 0.0, out))
        return _where(_any(m > 1.0, m != m), math.nan, out)
    return _in64(f, _real(m, "ellipk"))


def ellipe(m, /):
    """The complete elliptic integral of the second kind
    ``E(m) = integral_0^(pi/2) (1 - m sin(t)**2)**(1/2) dt`` for ``m <= 1``.

    By the AGM: ``E = K (1 - m/2 - sum_(n >= 1) 2^(n-1) c_n^2)`` for ``0 <= m <= 1`` (``1 - m``
    near 0: a cancellation of about ``K`` ulps), and
    ``E(m) = sqrt(1 - m) E(m / (m - 1))`` for negative ``m`` (no cancellation there). As
    SciPy: 1 at ``m = 1``, ``inf`` at ``-inf``, nan for ``m > 1`` and nan. Derivative:
    ``(E - K) / (2m)`` (``-pi/8`` at 0), from the iteration (any order). About 1e-15
    relative, up to about ``K`` ulps where ``1 - m`` (or ``1 / (1 - m)``) is tiny (3e-14 near
    ``m = -1e235``)."""
    def f(m):
        neg = m < 0.0
        ok = _all(m < 1.0, fnp.isfinite(m))
        ms = _where(ok, m, 0.5)
        # (m < 0: the imaginary-modulus transformation to m / (m - 1) in (0, 1), with its
        # complement p = 1 / (1 - m) computed directly)
        p = _where(neg, fnp.divide(1.0, fnp.subtract(1.0, ms)), fnp.subtract(1.0, ms))
        a, total = _agm(fnp.sqrt(p))
        k = math.pi / (2.0 * a)
        e = fnp.multiply(k, fnp.subtract(fnp.add(0.5, 0.5 * p), total))
        e = _where(neg, fnp.multiply(fnp.sqrt(fnp.subtract(1.0, _where(neg, ms, 0.0))), e), e)
        out = _where(m == 1.0, 1.0, _where(m == -_inf, _inf, e))
        return _where(_any(m > 1.0, m != m), math.nan, out)
    return _in64(f, _real(m, "ellipe"))


# -- special18e: the associated Legendre function lpmv ------------------------------------------

def lpmv(m, v, x, /):
    """The associated Legendre function (Ferrers' function of the first kind) ``P_v^m(x)``
    of integer order ``m``, real degree ``v``, for ``-1 <= x <= 1``, with the Condon-Shortley
    phase as SciPy: ``P_v^m = (-1)**m (1 - x**2)**(m/2) d^m P_v / dx^m``.

    By the hypergeometric function (DLMF 14.3.1, and 14.9.3 for ``m > 0``):
    ``c ((1 - x)/(1 + x))**(|m|/2) hyp2f1(-v, v + 1; 1 + |m|; (1 - x)/2)``, ``c = (-1)**m
    poch(v - m + 1, 2m) / m!`` for ``m >= 0``, ``1 / |m|!`` below (a polynomial where ``v``
    is an integer); where the generic :func:`hyp2f1` has no value there, its Euler transform
    ``(1 - z)**|m| hyp2f1(|m| + v + 1, |m| - v; 1 + |m|; z)``. As SciPy:
    nan for a non-integer ``m``, ``|x| > 1`` (except the Legendre polynomials: ``m = 0`` with
    an integer ``v``, at any ``x``; at ``x = +-inf`` their limits, 1 for degree 0, else ``inf``
    at ``+inf`` and ``(-1)**n inf`` at ``-inf``, as their derivatives' — SciPy's nan for some,
    before session 57 nan), infinite ``v`` and nan; at ``x = 1`` 1 for
    ``m = 0``, else 0; at ``x = -1`` ``(-1)**n`` (``m = 0``) or 0 for an integer degree
    (``n = v``, or ``-v - 1`` for ``v < 0``), else ``-inf`` (``m = 0``) or ``inf``.
    Unlike SciPy (nan), the orders ``m < -n`` of an integer degree have their values
    (``P_0^-1(x) = ((1 - x)/(1 + x))**(1/2)``, ``inf`` at ``x = -1``).

    Derivative in ``x`` through the composition (:func:`hyp2f1`'s in ``x``; any order);
    none in ``m``; in ``v`` NotImplementedError (:func:`hyp2f1`'s parameters). float32
    only where every operand is float32 (computed in float64). About the accuracy of
    :func:`hyp2f1` (within 1e-14 of mpmath's on a grid with ``|m| <= 5``, ``|v| <= 12``;
    SciPy's is 1.4e-12 off in places); near ``x = -1`` the function grows as
    ``(1 + x)**(-|m|/2)`` (a logarithm for ``m = 0``)."""
    m, v, x = _real_weak((m, v, x), "lpmv")
    if _dtype(x) in _LOW:
        return _in64_many(lpmv, (m, v, x))
    m = fnp.stop_gradient(m)
    integer = _all(m == fnp.floor(m), fnp.isfinite(m))
    ms = _where(integer, m, 0.0)
    k = fnp.abs(ms)
    whole = v == fnp.floor(v)
    # (SciPy: the Legendre polynomials P_n at any finite x; at x = +-inf their limits, and
    # their derivatives', through hyp2f1's of a polynomial at z = -+inf)
    legendre = _all(ms == 0.0, whole, x == x)
    ok = _all(integer, fnp.isfinite(v), _any(_all(x >= -1.0, x <= 1.0), legendre))
    vs = _where(ok, v, 0.0)
    xs = _where(_all(ok, x != -1.0), x, 0.0)
    one_minus, one_plus = fnp.subtract(1.0, xs), fnp.add(1.0, xs)
    z = fnp.multiply(0.5, one_minus)
    # F(-v, v + 1; 1 + |m|; z) for every m (DLMF 14.3.1 with P_v^m = (-1)^m
    # poch(v - m + 1, 2m) P_v^-m); where the generic hyp2f1 has no accurate value, its
    # Euler transform (1 - z)^|m| F(|m| + v + 1, |m| - v; 1 + |m|; z) (then each only where
    # taken, so that the other's nan stays out of the derivative)
    a, b, c = fnp.negative(vs), fnp.add(vs, 1.0), fnp.add(k, 1.0)
    f = hyp2f1(a, b, c, z)
    need = _all(fnp.isnan(fnp.stop_gradient(f)), ok)
    zero = fnp.zeros_like(z)
    if isinstance(need, _Tracer) or bool(fnp.any(need)):
        f = hyp2f1(a, b, c, _where(need, zero, z))
        zf = _where(need, z, zero)
        g = fnp.multiply(fnp.power(fnp.subtract(1.0, zf), k),
                         hyp2f1(fnp.subtract(c, a), fnp.subtract(c, b), c, zf))
        f = _where(need, g, f)
    if _known_none(k != 0.0):
        # (m = 0 throughout, known: P_v = F alone, its coefficient and power 1; so no
        # product with them, whose slopes (0) would meet F's infinite ones at x = +-inf)
        out = f
    else:
        out = _lpmv_scaled(f, k, ms, vs, c, legendre, one_minus, one_plus)
    # x = -1: the limits (SciPy's infinities for a non-integer degree)
    n = _where(vs >= 0.0, vs, fnp.subtract(-1.0, vs))
    parity = fnp.subtract(1.0, fnp.multiply(2.0, fnp.remainder(_where(whole, n, 0.0), 2.0)))
    at_whole = _where(ms == 0.0, parity, _where(_all(ms < 0.0, k > n), _inf, zero))
    at_minus1 = _where(whole, at_whole, _where(ms == 0.0, -_inf, fnp.add(zero, _inf)))
    out = _where(x == -1.0, at_minus1, out)
    return _where(ok, out, math.nan)


def _lpmv_scaled(f, k, ms, vs, c, legendre, one_minus, one_plus):
    """lpmv's F times its coefficient and the power of (1 - x)/(1 + x), any m."""
    half = fnp.multiply(0.5, k)
    fact = gamma(c)
    sign = fnp.subtract(1.0, fnp.multiply(2.0, fnp.remainder(k, 2.0)))  # (-1)**m
    up = fnp.multiply(sign, poch(fnp.add(fnp.subtract(vs, ms), 1.0),
                                 fnp.multiply(2.0, _where(ms >= 0.0, ms, 0.0))))
    coef = fnp.divide(_where(ms >= 0.0, up, 1.0), fact)
    ratio = fnp.divide(one_minus, _where(legendre, 1.0, one_plus))
    # (m = 0: no power, whose derivative at ratio = 0 would be 0 * inf)
    scale = _where(k == 0.0, 1.0, fnp.power(_where(k == 0.0, 1.0, ratio), half))
    return fnp.multiply(fnp.multiply(coef, scale), f)


# -- session 53: silent as SciPy's ufuncs ------------------------------------------------------
# SciPy's special functions report no floating-point warnings (its ufuncs signal their
# domain errors through sf_error, off by default); these composites' NumPy operations did
# (logit(0): "divide by zero encountered in log"; boxcox(0, 0.5), beta(0, 0), binom(1, -1e300),
# gamma(0)...), so each runs with NumPy's errors ignored. Only here, around whole functions
# called eagerly: never on the per-primitive path.
# (session 54) np.errstate builds its error object on every entry (about 2 us: logit on 100
# elements paid 12 %); the context variable NumPy's errstate sets (NumPy >= 2) is set here
# to one object made once, reset after (0.2 us: functrans.backends.numpy_errors).
from ..backends.numpy_errors import IGNORE as _ERR_IGNORE, STATE as _ERR_STATE  # noqa: E402


def _silent(fn):
    import functools

    if _ERR_STATE is None:
        @functools.wraps(fn)
        def quiet(*args, **kwargs):
            with _np.errstate(all="ignore"):
                return fn(*args, **kwargs)
        return quiet

    @functools.wraps(fn)
    def quiet(*args, **kwargs):
        token = _ERR_STATE.set(_ERR_IGNORE)
        try:
            return fn(*args, **kwargs)
        finally:
            _ERR_STATE.reset(token)
    return quiet


_SILENT = ("logit", "boxcox", "boxcox1p", "beta", "betaln", "binom", "gamma", "gammasgn",
           "cosm1", "exprel", "expn", "fdtr", "fdtrc", "gdtr", "gdtrc", "betaincc",
           # (session 54's sweep, the rest of the namespace at 0, -0, +-1, +-inf, nan, 1e300,
           # 5e-324, -2, 0.5: cbrt(1e300), comb(inf, 0), factorial(inf), inv_boxcox(0, inf),
           # jv(inf, 0), log_ndtr(-inf), owens_t(1e300, 0), poch(0, inf), stdtrit(1, 0)
           # warned; digamma(-inf), erfc(1e300) and erfcx(-inf) are silent at the source,
           # functrans.backends: under errstate a NumPy call costs up to 1 us more, +12 to
           # +35 % on those of a few microseconds)
           "cbrt", "comb", "factorial",
           "inv_boxcox", "inv_boxcox1p", "jv", "log_ndtr", "owens_t", "poch", "stdtrit",
           # (session 55: rgamma(-1e300), Gamma(1 - x)'s overflow; hyp1f1's e^x beyond x =
           # 1e8; yn's recurrence past an overflow)
           "rgamma", "hyp1f1", "yn")
for _name in _SILENT:
    globals()[_name] = _silent(globals()[_name])
del _name


def _silent_from(fn, bound, in_float64):
    """``fn`` of one argument, silent (``_silent``) only where some element of a plain float
    or NumPy argument may reach ``bound`` (nan included; tracers and others: always);
    ``in_float64``: fn's body, for a float64 NumPy array (fn less its promotions). Under
    the ignored error state each NumPy operation costs more (exp2 of a scalar 11.7 -> 15.7 us,
    +35 %), a look at the argument ~0.1 us (a float) to ~1.5 us (a maximum)."""
    import functools
    quiet = _silent(fn)

    @functools.wraps(fn)
    def maybe(x, /):
        if type(x) is float:
            if x < bound:
                return fn(x)
        elif type(x) is _np.ndarray and x.dtype.kind in "fiu" and x.size:
            if _np.maximum.reduce(x, axis=None) < bound:
                # (float64: fn's promotions and rounding would leave x as it is; 0.6 us of
                # exp2's 2.6 on 10 elements)
                return in_float64(x) if x.dtype is _F64 else fn(x)
        return quiet(x)
    return maybe


_F64 = _np.dtype(_np.float64)
# (session 55: exp2(1e300), exp10(1e300) warned, the power primitive's overflow, from 2**1024
# and 10**308.26)
exp2 = _silent_from(exp2, 1023.0, fnp.exp2)
exp10 = _silent_from(exp10, 308.0, _exp10)
