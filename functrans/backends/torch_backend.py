"""PyTorch backend (CPU and CUDA tensors) through ``array_api_compat.torch``.

Imported only when a ``torch.Tensor`` is first seen or the backend is asked for by name.
Extras: ``scatter_add`` with ``Tensor.index_add``; the special functions from
``torch.special``. torch's own default floating dtype is float32; functrans's creation
functions and Python floats given to transforms give float64 here as on every backend.
"""

import functools
import math
import types
import warnings

import array_api_compat.torch as _xp
import numpy
import torch

from .. import dtypes as _dt
from . import Backend, register
from .generic import complex_comparison, complex_extreme, flat_index
from .generic import polygamma as _generic_polygamma
from .standard_backend import complex_log1p

_pairs = [(getattr(torch, n), _dt.BY_NAME[n]) for n in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128")
    if hasattr(torch, n)]


def _scatter_add(x, index, values, /, *, axis=0):
    shape = tuple(x.shape)
    parts = tuple(index) if isinstance(index, (tuple, list)) else (index,)
    parts = tuple(torch.as_tensor(i, device=x.device) for i in parts)
    axis, flat, merged = flat_index(_xp, shape, parts, axis)
    vals = values.reshape(merged[:axis] + (flat.shape[0],) + merged[axis + 1:])
    return x.reshape(merged).index_add(axis, flat, vals).reshape(shape)


def _polygamma(n, x):
    # torch's trigamma (n = 1) is accurate to about 1e-9 only: the generic Hurwitz zeta sum
    # (1e-15) is used for it.
    if n == 1:
        return _generic_polygamma(backend, n, x)
    # (torch gives nan at +inf; the limit, as SciPy's, is a zero of sign (-1)^(n+1))
    out = torch.special.polygamma(n, x)
    if n < 2:
        return out
    return torch.where(x == math.inf, torch.zeros_like(out) * (-1.0) ** (n + 1), out)


class LinAlgError(numpy.linalg.LinAlgError, torch.linalg.LinAlgError):
    """torch's linear-algebra error (a singular matrix to ``inv`` or ``solve``, one that is
    not positive definite to ``cholesky``, an SVD or eigendecomposition that did not
    converge), raised as an instance of NumPy's ``LinAlgError`` as well: the same program
    catches the same error on every backend (``except numpy.linalg.LinAlgError``, as on
    NumPy and array-api-strict), and code written for torch (``except
    torch.linalg.LinAlgError``) still catches it. The message is torch's."""


def _hurwitz_zeta(s, q):
    # torch's zeta(s, q) is nan for s past about 1e14 at q > 1 (as SciPy's; the value there
    # is q^-s, 0): the generic one at those elements. On a device, read-free: q^-s (the sum's
    # first term; the second, (q + 1)^-s, is below it by a factor (1 + 1/q)^s, 0 wherever
    # q^-s is not) where s > 1e13, without the look
    out = torch.special.zeta(s, q)
    bad = torch.isnan(out) & (s > 1.0) & (q > 0.0)
    if not _on_host(out):
        huge = bad & (s > 1e13)
        return torch.where(huge, torch.pow(torch.where(huge, q, 1.0), -s), out)
    if not bool(bad.any()):
        return out
    from .special_generic import zeta
    s, q = (torch.as_tensor(v, dtype=out.dtype, device=out.device) for v in (s, q))
    return torch.where(bad, zeta(backend, *torch.broadcast_tensors(s, q)), out)


def _finite_sum(out):
    """Whether ``out`` has no infinity (nor nan), looked at through its sum: a tenth of the
    time of ``isinf(out).any()`` (a sum that overflows takes the slow path, still right)."""
    return math.isfinite(out.sum())


def _hyperbolic(name):
    # torch's vectorised sinh and cosh (CPU, float32 and float64: any tensor of more than a
    # few elements) overflow where e^|x| does, from |x| = 709.78 (88.72), where sinh and cosh
    # ~ e^|x| / 2 are finite up to 710.48 (89.42): there (e^(|x|/2) / 2) e^(|x|/2)
    fn = getattr(torch, name)

    def impl(x):
        out = fn(x)
        if x.dtype.is_complex or (_on_host(x) and _finite_sum(out)):
            return out   # (on a device: the selection below, without the look)
        h = torch.exp(x.abs() * 0.5)
        big = (h * 0.5) * h
        big = torch.copysign(big, x) if name == "sinh" else big
        return torch.where(torch.isinf(out) & torch.isfinite(x), big, out)
    impl.__name__ = name
    return impl


def _bessel_i(name):
    # torch's i0 and i1 overflow from |x| = 709.78 (e^|x| times a series), where I(x) ~
    # e^|x| / sqrt(2 pi |x|) is finite up to 713.98 (i0(710) = 3.345e306): the generic ones
    fn = getattr(torch.special, name)

    scaled = getattr(torch.special, name + "e")

    def impl(x):
        out = fn(x)
        if not _on_host(x):
            # (on a device, read-free: the scaled function times e^|x| as (e^(|x|/2))^2,
            # finite up to 713.98, within a few ulp)
            h = torch.exp(x.abs() * 0.5)
            return torch.where(torch.isinf(out) & (x.abs() < 714.0), (scaled(x) * h) * h,
                               out)
        if _finite_sum(out):
            return out
        from . import special_generic
        fixed = getattr(special_generic, name)(backend, x)
        return torch.where(torch.isinf(out) & (x.abs() < 714.0), fixed, out)
    impl.__name__ = name
    return impl


def _bessel_k(name):
    # torch's K0 and K1 (scaled or not) are inf and nan at x = 5e-324 (x / 2 is 0), where
    # K0 = 744.556 and K1 = 1/x overflows: the generic ones there
    fn = getattr(torch.special, _TORCH_K[name])

    def impl(x):
        out = fn(x)
        if not _on_host(x):
            # (on a device, read-free: below 1e-300 K0 = -log(x / 2) - euler_gamma and K1 =
            # 1 / x to rounding, their next terms x^2 log x below; e^x = 1 in the scaled ones)
            bad = ~torch.isfinite(out) & (x > 0.0) & (x < 1e-300)
            xs = torch.where(bad, x, 1.0)
            small = (_K0_TINY - torch.log(xs)) if name.startswith("k0") else 1.0 / xs
            return torch.where(bad, small, out)
        if _finite_sum(out):
            return out
        from . import special_generic
        bad = ~torch.isfinite(out) & (x > 0.0) & (x < 1e-300)
        return torch.where(bad, getattr(special_generic, name)(backend, x), out)
    impl.__name__ = name
    return impl


_K0_TINY = math.log(2.0) - 0.5772156649015329  # (log 2 - Euler's gamma)


_TORCH_K = {"k0": "modified_bessel_k0", "k0e": "scaled_modified_bessel_k0",
            "k1": "modified_bessel_k1", "k1e": "scaled_modified_bessel_k1"}


def _on_host(x):
    """Whether ``x``'s values can be read without a device synchronisation (a CPU tensor):
    there a look at the values may skip work; on a GPU the work is done instead of the look."""
    return x.is_cpu


def _digamma(x):
    # torch's digamma within d of a negative integer is about 1.5e-16/d off relative (d =
    # 1e-8: 1.5e-8; digamma(-1 + 2**-52) 31 %): there (those elements only) the reflection
    # digamma(1 - x) - pi / tan(pi d) with d = x - round(x) exact, about 2e-16
    out = torch.special.digamma(x)
    if not _on_host(x):
        return _digamma_reflected_where_near(x, out)
    if not bool((x < 0.0).any()):
        return out
    d = torch.abs(x - torch.round(x))
    near = (x < 0.0) & (d < 0.0625) & (d > 0.0)
    xn = x[near]
    out = out.clone()
    out[near] = (torch.special.digamma(1.0 - xn)
                 - math.pi / torch.tan(math.pi * (xn - torch.round(xn))))
    return out


def _digamma_reflected_where_near(x, out):
    """``_digamma``'s correction without reading values on the host (a device tensor): the
    reflection computed at every element (a stand-in 0.5 where not near) and selected; the
    same operations on the same values as the masked one, so the same bits."""
    r = torch.round(x)
    near = (x < 0.0) & (torch.abs(x - r) < 0.0625) & (x != r)
    xn = torch.where(near, x, 0.5)
    refl = (torch.special.digamma(1.0 - xn)
            - math.pi / torch.tan(math.pi * (xn - torch.round(xn))))
    return torch.where(near, refl, out)


def _numpy_linalg_error(fn):
    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except torch.linalg.LinAlgError as e:
            if isinstance(e, numpy.linalg.LinAlgError):
                raise
            raise LinAlgError(*e.args) from None
    return call


def _namespace_with_numpy_linalg_errors(xp):
    """``xp`` with its ``linalg`` functions raising :class:`LinAlgError` for torch's errors
    (the primitives call ``backend.xp.linalg.inv``...): copies of the two modules, so the
    library's own are untouched."""
    linalg = types.ModuleType(xp.linalg.__name__, xp.linalg.__doc__)
    for name, value in vars(xp.linalg).items():
        if callable(value) and not name.startswith("_") and not isinstance(value, type):
            value = _numpy_linalg_error(value)
        setattr(linalg, name, value)
    out = types.ModuleType(xp.__name__, xp.__doc__)
    vars(out).update(vars(xp))
    vars(out).update(_FAST)
    out.linalg = linalg
    return out


def _same_dtype_first(xp):
    """``xp``'s two-operand functions and ``where`` calling torch at once where both operands
    are tensors of one dtype (or, for ``where``, where some operand is no tensor): there
    array_api_compat's promotion (result_type twice and two ``.to`` for 0-d tensors) leaves
    them as they are, and cost the generic loops (betaincinv's Halley steps, the series) on
    torch ~25 % of their time; otherwise its wrappers, the same calls."""
    def two(slow):
        native = slow.__wrapped__

        def fast(x1, x2, /, **kwargs):
            if (isinstance(x1, torch.Tensor) and isinstance(x2, torch.Tensor)
                    and x1.dtype is x2.dtype):
                return native(x1, x2, **kwargs)
            return slow(x1, x2, **kwargs)
        fast.__name__ = fast.__qualname__ = slow.__name__
        fast.__doc__ = slow.__doc__
        fast.__wrapped__ = native
        return fast
    slow_where = xp.where

    def where(condition, x1, x2, /):
        if (isinstance(x1, torch.Tensor) and isinstance(x2, torch.Tensor)
                and x1.dtype is not x2.dtype):
            return slow_where(condition, x1, x2)
        return torch.where(condition, x1, x2)
    where.__doc__ = slow_where.__doc__
    found = {"where": where}
    for name, fn in vars(xp).items():  # (array_api_compat's two-operand wrappers, _f)
        if (isinstance(fn, types.FunctionType) and fn.__code__.co_name == "_f"
                and "__wrapped__" in vars(fn)):
            found[name] = two(fn)
    return found


_FAST = _same_dtype_first(_xp)


def _fast(name):
    """array_api_compat's function ``name``, its same-dtype short path where it has one."""
    return _FAST.get(name) or getattr(_xp, name)


def _cholesky(x, /, *, upper=False):
    """torch's Cholesky factor, but NumPy's (OpenBLAS's, as JAX's) where a pivot is NaN: the
    factorization goes on (``nan <= 0`` is false), giving NaN from there, where torch's
    stops and raises; below an infinite pivot the column is 0. A pivot <= 0 raises
    LinAlgError on both."""
    out, info = torch.linalg.cholesky_ex(x, upper=upper)
    failed = info != 0
    if not bool(failed.any()):  # (torch's cholesky reads info on the host too)
        return out
    n = x.shape[-1]
    lower = _cholesky_through_nan(x.reshape(-1, n, n)[failed.reshape(-1)])
    out = out.reshape(-1, n, n).clone()
    out[failed.reshape(-1)] = lower.mH if upper else lower
    return out.reshape(x.shape)


def _cholesky_through_nan(a):
    """The lower Cholesky factors of the matrices ``a`` (k, n, n), from their lower
    triangles, column by column; NaN pivots are carried on, and a pivot <= 0 raises."""
    n = a.shape[-1]
    low = torch.zeros_like(a)
    for j in range(n):
        row = low[:, j, :j]
        d = a[:, j, j].real - (row * row.conj()).real.sum(-1)
        if bool((d <= 0).any()):
            raise LinAlgError(f"linalg.cholesky: The factorization could not be completed "
                              f"because the input is not positive-definite (the leading "
                              f"minor of order {j + 1} is not positive-definite).")
        piv = torch.sqrt(d)
        low[:, j, j] = piv.to(a.dtype)
        if j + 1 < n:
            below = a[:, j + 1:, j] - (low[:, j + 1:, :j] @ row.conj()[..., None])[..., 0]
            # (an infinite pivot scales the column by 1 / inf = 0, which NumPy's LAPACK
            # (OpenBLAS's scal by 0) makes exactly 0 even at an infinite or NaN entry:
            # cholesky([[inf, -inf], [-inf, inf]]) is [[inf, 0], [0, inf]], not nan)
            below = below / piv[:, None]
            low[:, j + 1:, j] = torch.where(torch.isinf(piv)[:, None], 0, below)
    return low


def _solve_triangular(a, b, lower):
    # torch divides by a zero on the diagonal (inf/nan); SciPy's and the general solve of the
    # other backends raise, and so does this one (one check on the host, as torch's solve).
    zero = torch.diagonal(a, dim1=-2, dim2=-1) == 0
    if bool(zero.any()):
        i = int(torch.nonzero(zero.reshape(-1, zero.shape[-1]))[0, 1])
        raise LinAlgError(f"singular matrix: the triangular matrix has a zero at diagonal "
                          f"position {i}")
    return torch.linalg.solve_triangular(a, b, upper=not lower)


# torch has no sums or products of uint16/32/64 on the CPU: those accumulate in int64 (the
# same bits, modulo 2**64) and are cast back.
_WIDE_UNSIGNED = {getattr(torch, n) for n in ("uint16", "uint32", "uint64") if hasattr(torch, n)}


def _accumulation(name, axis_param):
    fn = _fast(name)

    def impl(x, **params):
        kw = {"axis": params[axis_param]}
        if params.get("keepdims"):  # (the reductions' parameter, only when true)
            kw["keepdims"] = True
        if x.dtype in _WIDE_UNSIGNED:
            return fn(x.to(torch.int64), **kw).to(x.dtype)
        return fn(x, dtype=x.dtype, **kw)
    return impl


# torch's take (index_select) has no kernel for its unsigned types beyond uint8: the words
# are gathered as the signed integers of the same width (a view of the same bits)
_SIGNED_VIEW = {torch.uint16: torch.int16, torch.uint32: torch.int32, torch.uint64: torch.int64}


def _gather(x, *idx):
    from ..primitives.indexing import _gather_impl
    signed = _SIGNED_VIEW.get(x.dtype)
    if signed is None:
        return _gather_impl(backend, x, *idx)
    return _gather_impl(backend, x.view(signed), *idx).view(x.dtype)


def _flip(x, axes):
    signed = _SIGNED_VIEW.get(x.dtype)  # (no flip kernel for uint16/32/64 either)
    if signed is None:
        return torch.flip(x, axes)
    return torch.flip(x.view(signed), axes).view(x.dtype)


def _bitcast(x, dtype):
    # On the tensor's device: a view of its bytes (lax.bitcast_convert_type's trailing axis
    # from the flat view's length)
    from ..primitives.structural import bitcast_shape
    shape = bitcast_shape(x.shape, backend.dtype(x), dtype)
    flat = x.reshape(-1)
    try:
        return flat.view(backend.native_dtype(dtype)).reshape(shape)
    except RuntimeError:  # an offset into storage that the wider dtype's alignment refuses
        return flat.clone().view(backend.native_dtype(dtype)).reshape(shape)


def _nan_last_searchsorted(x1, x2, side):
    # torch's binary search misplaces values when NaNs (sorted last, as NumPy sorts them)
    # end the sorted sequence: [1, 2, 3, nan] gave 4 for 3 on the left, NumPy's 2, and isin,
    # setdiff1d... missed such values. The search runs on the NaN-free prefix; a NaN goes
    # before the first NaN ('left') or after the last ('right'), as in NumPy.
    n = x1.shape[0] - int(torch.isnan(x1).sum())
    out = torch.searchsorted(x1[:n], x2, side=side)
    return torch.where(torch.isnan(x2), n if side == "left" else x1.shape[0], out)


def _nan_last_searchsorted_on_device(x1, x2, side):
    # _nan_last_searchsorted without reading the number of NaNs on the host: the NaNs
    # searched as +inf (still sorted), and a result past the NaN-free prefix (only +inf's on
    # the 'right', with +inf's in x1 or not) brought back to its end
    nan1 = torch.isnan(x1)
    n = x1.shape[0] - nan1.sum()
    out = torch.minimum(torch.searchsorted(torch.where(nan1, math.inf, x1), x2, side=side), n)
    return torch.where(torch.isnan(x2), n if side == "left" else x1.shape[0], out)


def _searchsorted(x1, x2, side):
    from ..primitives.sorting import searchsorted_impl
    if x1.is_floating_point() and x1.shape[0]:
        if not _on_host(x1):
            return _nan_last_searchsorted_on_device(x1.contiguous(), x2.contiguous(), side)
        if bool(torch.isnan(x1[-1])):
            return _nan_last_searchsorted(x1, x2.contiguous(), side)
    # (torch copies a non-contiguous operand itself, but warns the first time it does)
    return searchsorted_impl(backend, x1.contiguous(), x2.contiguous(), side,
                             native=_xp.searchsorted)


def _parts(v):
    if isinstance(v, torch.Tensor):
        return (v.real, v.imag) if v.is_complex() else (v, None)
    return (v.real, v.imag) if isinstance(v, complex) else (v, None)


def _complex_sum(x, y, sign):
    """``x + y`` (``sign`` 1) or ``x - y`` (-1), one of them complex, part by part: torch
    computes ``x + alpha * y`` with a complex product by ``alpha = 1``, which turns an
    infinite or NaN part of ``y`` into NaN in its other part ((1 + 0j) + inf j gave
    nan + inf j; NumPy's is 1 + inf j)."""
    dtype = torch.result_type(x, y)
    (xr, xi), (yr, yi) = _parts(x), _parts(y)
    # (a real operand's imaginary part is +0.0, as NumPy's promotion to complex makes it)
    xi, yi = (0.0 if xi is None else xi), (0.0 if yi is None else yi)
    re, im = (xr + yr, xi + yi) if sign > 0 else (xr - yr, xi - yi)
    re, im = torch.broadcast_tensors(torch.as_tensor(re), torch.as_tensor(im))
    real = dtype.to_real()
    return torch.complex(re.to(real), im.to(real))


def _complex_safe_sum(name, sign):
    fn = _fast(name)

    def impl(x, y):
        if (isinstance(x, torch.Tensor) and x.is_complex()
                or isinstance(y, torch.Tensor) and y.is_complex()):
            return _complex_sum(x, y, sign)
        return fn(x, y)
    return impl


def _negative(x):
    # (torch's vectorised complex negation, on 2 elements or more, computes 0 - x: its zero
    # parts lose their sign, -(4+0j) gave -4+0j where NumPy's is -4-0j, and so sqrt of it
    # +2j, NumPy's -2j)
    if isinstance(x, torch.Tensor) and x.is_complex():
        return torch.complex(-x.real, -x.imag)
    return _xp.negative(x)


def _acos(x):
    out = _xp.acos(x)
    if not out.is_complex():
        return out
    # torch's complex acos takes its real part as pi/2 - Re asin(z), which cancels where the
    # real part is small: acos(1 + 1e-19j) has real part 1.532e-14 (true 1.543e-14), acos(2 +
    # 1e-300j) 0 (true 5.8e-301). Kahan's 2 atan2(Re sqrt(1 - z), Re sqrt(1 + z)) has no
    # cancellation (NumPy's values to an ulp or two); torch's own stays where z is not finite.
    re, im = x.real, x.imag
    a = torch.sqrt(torch.complex(1.0 - re, -im)).real
    b = torch.sqrt(torch.complex(1.0 + re, im)).real
    half = torch.atan2(a, b)
    # (2 atan2(a, b) = atan2(a, b / 2) to far below an ulp at such angles, and the latter
    # does not lose the last bits of a subnormal result)
    real = torch.where(half < 1e-30, torch.atan2(a, 0.5 * b), 2.0 * half)
    real = torch.where(torch.isfinite(x), real, out.real)
    # (torch's vectorised complex acos gives acos(0j) = pi/2 + 0j; its imaginary part has
    # the sign opposite to x's, -0.0 there, as NumPy's and C99's: acos(conj z) = conj(acos z))
    im_out = out.imag
    return torch.complex(real, torch.where(torch.isnan(im_out), im_out,
                                           torch.copysign(im_out, -im)))


def _pow(x, y):
    out = _xp.pow(x, y)
    if not (isinstance(out, torch.Tensor) and out.is_complex() and isinstance(y, torch.Tensor)):
        return out
    # (torch's complex 0 ** 0 is nan + nan j; NumPy's x ** 0 is 1 for every complex x)
    out = torch.where(y == 0, 1, out)
    return _complex_integer_power(x, y, out)


def _complex_integer_power(x, y, out):
    """NumPy's complex ``x ** n`` for a whole exponent ``n``, |n| < 100: products (by
    squaring), where torch's exp(n log x) gave ``(-2+0j) ** 2`` 4 - 9.8e-16j and ``1e154 **
    2`` 1.4e-14 relative off; and NumPy's value at a zero base (0 where the exponent's real
    part is positive, else nan + nan j; torch's inf + nan j or -0j). ``out``: torch's."""
    n = y.real if y.is_complex() else y
    whole = n == torch.round(n) if n.is_floating_point() else torch.ones_like(n, dtype=bool)
    if y.is_complex():
        whole = whole & (y.imag == 0)
    whole = whole & (n.abs() < 100) & (y != 0)
    a = torch.as_tensor(x, dtype=out.dtype, device=out.device)
    zero = (a == 0) & (y != 0)
    if not bool((whole | zero).any()):  # (one look on the host, as torch's own checks)
        return out
    a = a.expand(out.shape)
    k = torch.where(whole, n, 0).to(torch.int64).expand(out.shape)
    m = k.abs()
    # (1, 2 and 3 as NumPy's: a, a a and a (a a); other powers, and all negative ones, the
    # products of the squares a^(2^bit) that |n| holds, from 1, then 1 / that)
    sq = a * a
    acc = torch.ones_like(out)
    p = a
    for bit in range(7):  # (|n| < 128)
        acc = torch.where(((m >> bit) & 1) == 1, acc * p, acc)
        p = p * p
    acc = torch.where(k < 0, _reciprocal_as_numpy(acc), acc)
    prod = torch.where(k == 1, a, torch.where(k == 2, sq, torch.where(k == 3, a * sq, acc)))
    out = torch.where(whole, prod, out)
    nan = torch.tensor(complex(math.nan, math.nan), dtype=out.dtype, device=out.device)
    return torch.where(zero, torch.where(n > 0, torch.zeros_like(nan), nan), out)


def _reciprocal_as_numpy(d):
    """``1 / d`` by Smith's algorithm, the signs of zeros and the infinities as NumPy's
    complex division gives them (torch's differ there: 1 / (1e308 + 2e154j) has imaginary
    part +0, NumPy's -0, the exact value's sign)."""
    re, im = d.real, d.imag
    by_re = re.abs() >= im.abs()
    rat = torch.where(by_re, im / re, re / im)
    scl = 1.0 / torch.where(by_re, re + im * rat, im + re * rat)
    out_re = torch.where(by_re, scl, (rat + 0.0) * scl)
    out_im = torch.where(by_re, (0.0 - rat) * scl, (0.0 * rat - 1.0) * scl)
    # (a zero divisor: 1 / |re| and 0 / |re|, inf and nan)
    zero = (re == 0) & (im == 0)
    out_re = torch.where(zero, 1.0 / re.abs(), out_re)
    out_im = torch.where(zero, 0.0 / re.abs(), out_im)
    return torch.complex(out_re, out_im)


def _round(x):
    # (array_api_compat's round of a complex tensor is re + 1j * im: NaN beside an infinite
    # part, as in _complex_sum)
    if x.is_complex():
        return torch.complex(torch.round(x.real), torch.round(x.imag))
    return _xp.round(x)


def _mul_add(*xs, coef=None):
    # mul_add's sums on complex tensors part by part too (see _complex_sum)
    from ..primitives.elementwise import _mul_add_impl
    if not any(isinstance(v, torch.Tensor) and v.is_complex() for v in xs):
        return _mul_add_impl(backend, *xs, coef=coef)
    n = len(xs)
    terms = [xs[i] * xs[i + 1] for i in range(0, n - 1, 2)] + ([xs[-1]] if n % 2 else [])
    if coef is not None:
        terms = [t if c == 1.0 else t * c for t, c in zip(terms, coef)]
    out = terms[0]
    for t in terms[1:]:
        out = _complex_sum(out, t, 1)
    return out


# -- uint16/32/64: torch has no CPU kernels for most of their arithmetic, comparisons and
# reductions (it raises NotImplementedError; *, ==, !=, &, |, ^, sort and sums it has). Those
# primitives run on int64 instead, exactly: uint16/32 values are int64 values, and a result
# reduced modulo 2**bits is cast back; uint64 values are int64 bit patterns, on which +, -,
# *, ** and the bitwise operations wrap as uint64's do, while an order (comparisons, max,
# argmax, unique's sort) is int64's on the patterns with the sign bit flipped (x - 2**63:
# the order of the unsigned values). The fallback runs only where torch refused.

_BITS = {torch.uint16: 16, torch.uint32: 32, torch.uint64: 64}
_SIGN_BIT = -2 ** 63


def _unsigned_dtype(args):
    for a in args:
        dt = getattr(a, "dtype", None)
        if dt is not None:
            return dt if dt in _BITS else None
    return None


def _as_int64(x, dt):
    """x's values as int64 (uint64: its bit patterns, modulo 2**64), where it is of dtype
    dt."""
    if type(x) is int:
        return x - 2 ** 64 if dt is torch.uint64 and x >= 2 ** 63 else x
    if getattr(x, "dtype", None) is not dt:
        return x
    return x.view(torch.int64) if dt is torch.uint64 else x.to(torch.int64)


def _from_int64(r, dt):
    """int64 results as dtype dt, modulo 2**bits."""
    if dt is torch.uint64:
        return r.view(torch.uint64)
    return (r & (2 ** _BITS[dt] - 1)).to(dt)


def _key(x, dt):
    """int64 values in the order of x's unsigned values, where it is of dtype dt."""
    if type(x) is int:
        return x + _SIGN_BIT if dt is torch.uint64 else x
    if getattr(x, "dtype", None) is not dt:
        return x
    return x.view(torch.int64) ^ _SIGN_BIT if dt is torch.uint64 else x.to(torch.int64)


def _from_key(k, dt):
    return (k ^ _SIGN_BIT).view(torch.uint64) if dt is torch.uint64 else k.to(dt)


def _primitive_impl(name):
    """The implementation a primitive has on this backend by default."""
    import functools
    from ..core import _primitives
    for p in list(_primitives):
        if p.name == name:
            return _fast(p.namespace_impl) if p.namespace_impl else \
                functools.partial(p.impl, backend)
    raise LookupError(name)


def _unsigned_fallback(name, unsigned, default=None):
    """The primitive ``name`` as torch computes it (``default``, else its implementation on
    the array namespace), and ``unsigned(default, dtype, *args, **params)`` where torch has
    no kernel for the operands' unsigned dtype."""

    def impl(*args, **params):
        nonlocal default
        if default is None:
            default = _primitive_impl(name)
        try:
            return default(*args, **params)
        except NotImplementedError:
            dt = _unsigned_dtype(args)
            if dt is None:
                raise
            return unsigned(default, dt, *args, **params)
        except RuntimeError:
            refused = _BOOL_REFUSED.get(name)
            if refused and any(isinstance(a, torch.Tensor) and a.dtype is torch.bool
                               for a in args):
                raise TypeError(refused) from None
            raise
    return impl


# torch refuses these on booleans with a RuntimeError; NumPy with a TypeError, as here
_BOOL_REFUSED = {
    "sub": "subtract (the - operator) of booleans is not supported (as in NumPy): use "
           "bitwise_xor (the ^ operator) or logical_xor, or cast to an integer dtype first",
    "neg": "negative (the - operator) of booleans is not supported (as in NumPy): use "
           "bitwise_invert (the ~ operator) or logical_not, or cast to an integer dtype first"}


def _wrapping(default, dt, *args, **params):  # +, -, *, **, negation, bitwise not
    return _from_int64(default(*[_as_int64(a, dt) for a in args], **params), dt)


def _ordered(default, dt, *args, **params):  # comparisons, argmax/argmin: bools, indices
    return default(*[_key(a, dt) for a in args], **params)


def _ordered_values(default, dt, *args, **params):  # max, min and their reductions
    return _from_key(default(*[_key(a, dt) for a in args], **params), dt)


def _unique(default, dt, x):
    values, *rest = default(_key(x, dt))
    return [_from_key(values, dt), *rest]


def _nonzero(default, dt, x):
    return default(x.view(_SIGNED_VIEW[dt]))


def _same_bits(default, dt, *args, **params):  # moving words: the signed words of their width
    out = default(*[a.view(_SIGNED_VIEW[dt]) if getattr(a, "dtype", None) is dt else a
                    for a in args], **params)
    return out.view(dt)


def _abs(default, dt, x):
    return x.clone()


def _sign(default, dt, x):
    return (x.view(_SIGNED_VIEW[dt]) != 0).to(dt)


def _shift_operands(x, s, dt):
    """The shifted values as int64 (see _as_int64) and the shift amounts as int64 in
    [0, bits], bits standing for every larger one: tensors, Python ints among them too."""
    bits = _BITS[dt]
    device = (s if type(x) is int else x).device
    x = _as_int64(x, dt)
    if type(x) is int:
        x = torch.as_tensor(x, dtype=torch.int64, device=device)
    if type(s) is int:
        return x, torch.as_tensor(min(s, bits), dtype=torch.int64, device=device)
    s = s.view(torch.int64) if dt is torch.uint64 else s.to(torch.int64)
    return x, torch.where((s < 0) | (s > bits), bits, s)  # (uint64's >= 2**63 read < 0)


def _shift_left(default, dt, x, s):
    x, s = _shift_operands(x, s, dt)
    return _from_int64(torch.where(s >= _BITS[dt], 0, x << s), dt)


def _shift_right(default, dt, x, s):
    x, s = _shift_operands(x, s, dt)
    if dt is not torch.uint64:  # non-negative int64 values: int64's shift is exact
        return _from_int64(x >> s, dt)
    k = s.clamp(1, 63)
    logical = (x >> k) & ((1 << (64 - k)) - 1)  # (int64's shift copies the sign bit)
    return torch.where(s == 0, x, torch.where(s >= 64, 0, logical)).view(torch.uint64)


def _uint64_divmod(a, b):
    """(a // b, a % b) of uint64 values given as int64 bit patterns (b == 0: int64's
    error). From a quotient of a // 2 by b (exact in int64), doubled, one step at most short
    (Hacker's Delight's unsigned division); a divisor of 2**63 or more divides once at most."""
    big = b < 0
    bb = torch.where(big, 1, b)
    q = (((a >> 1) & (2 ** 63 - 1)) // bb) << 1
    r = a - q * bb
    more = (r ^ _SIGN_BIT) >= (bb ^ _SIGN_BIT)
    q, r = torch.where(more, q + 1, q), torch.where(more, r - bb, r)
    once = (a ^ _SIGN_BIT) >= (b ^ _SIGN_BIT)
    return (torch.where(big, once.to(torch.int64), q),
            torch.where(big, torch.where(once, a - b, a), r))


def _power(default, dt, x, e):
    if dt is not torch.uint64:  # int64's power wraps modulo 2**64, so modulo 2**bits too
        return _wrapping(default, dt, x, e)
    x, e = _as_int64(x, dt), _as_int64(e, dt)
    if type(e) is int:
        e = torch.as_tensor(e, dtype=torch.int64, device=x.device)
    # an exponent of 2**63 or more (negative as int64): x**(2**63) is 0 modulo 2**64 for an
    # even x and 1 for an odd one (the odd residues' powers of 2**62 are 1), so x**e is
    # x**(e - 2**63), or 0
    big = e < 0
    out = default(x, torch.where(big, e ^ _SIGN_BIT, e))
    return torch.where(big & ((x & 1) == 0), 0, out).view(torch.uint64)


def _division(which):
    def unsigned(default, dt, a, b):
        if dt is not torch.uint64:  # exact in int64
            return _from_int64(default(_as_int64(a, dt), _as_int64(b, dt)), dt)
        a, b = _as_int64(a, dt), _as_int64(b, dt)
        if type(a) is int or type(b) is int:
            other = b if type(a) is int else a
            a, b = (torch.as_tensor(v, dtype=torch.int64, device=other.device)
                    for v in (a, b))
        a, b = torch.broadcast_tensors(a, b)
        zero = b == 0  # (NumPy's 0 there, as _zero_division_as_numpy gives)
        out = _uint64_divmod(a, torch.where(zero, 1, b))[which]
        return torch.where(zero, 0, out).view(torch.uint64)
    return unsigned


def _remainder_past_overflow(fn, x, y, out):
    """torch's float remainder on arrays of 8 elements or more (its vectorised kernel) is nan
    where ``x / y`` overflows (``1e300 mod 1e-300``, float32 ``1e30 mod 1e-30``), where
    NumPy's is exact: those elements are first reduced modulo ``y 2^k`` (a multiple of ``y``,
    so the same remainder) with ``k`` small enough for a finite quotient, then modulo ``y``."""
    if not (isinstance(out, torch.Tensor) and out.is_floating_point()):
        return out
    bad = torch.isnan(out)
    if not bool(bad.any()):
        return out
    x, y = (v if isinstance(v, torch.Tensor) else torch.as_tensor(v, dtype=out.dtype,
                                                                  device=out.device)
            for v in (x, y))
    x, y = torch.broadcast_tensors(x.to(out.dtype), y.to(out.dtype))
    bad = bad & torch.isfinite(x) & torch.isfinite(y) & (y != 0)
    if not bool(bad.any()):
        return out
    # (quotients up to 2**span: well inside the dtype's range)
    span = {torch.float64: 1000, torch.float32: 100, torch.bfloat16: 100}.get(out.dtype, 10)
    r, d = torch.where(bad, x, 1), torch.where(bad, y, 1)
    ed = torch.frexp(d)[1]
    for _ in range(8):  # (each step takes span bits off the exponents' difference)
        k = torch.clamp(torch.frexp(r)[1] - ed - span, min=0)
        half = k // 2  # (2**k itself may overflow: two exact scalings)
        r = fn(r, torch.ldexp(torch.ldexp(d, half), k - half))
        if not bool((k > 0).any()):
            break
    return torch.where(bad, r, out)


def _remainder_sign(out, y):
    """A float remainder with the divisor's sign, zeros included: torch's zeros take the
    dividend's (``remainder(-4., 2.)`` -0.0, NumPy's 0.0, as Python's ``-4.0 % 2.0``); its
    other results have the divisor's sign already."""
    if not (isinstance(out, torch.Tensor) and out.is_floating_point()):
        return out
    return torch.where(out == 0, torch.copysign(out, y), out)


def _zero_division_as_numpy(name):
    """floor_divide and remainder as torch computes them, but 0 (NumPy's result, with its
    warning) where an integer is divided by zero: torch raises a RuntimeError there. (The
    remainder: also exact where the quotient overflows, _remainder_past_overflow, and its
    zeros signed as the divisor, _remainder_sign.)"""
    fn = _fast(name)

    def impl(x, y):
        try:
            out = fn(x, y)
            if name == "remainder":
                return _remainder_sign(_remainder_past_overflow(fn, x, y, out), y)
            return out
        except NotImplementedError:  # (a subclass: the unsigned fallback's business)
            raise
        except RuntimeError as e:
            if "ZeroDivisionError" not in str(e):
                raise
        # (a Python scalar takes the tensor's dtype, as in fn(x, y): as_tensor alone made
        # floor_divide(5, int8 tensor holding 0) int64)
        like = x if isinstance(x, torch.Tensor) else y
        x, y = (v if isinstance(v, torch.Tensor) else
                torch.as_tensor(v, dtype=like.dtype, device=like.device) for v in (x, y))
        zero = y == 0
        if numpy.geterr()["divide"] != "ignore":  # (NumPy's warning, under its errstate)
            warnings.warn(f"divide by zero encountered in {name}", RuntimeWarning,
                          stacklevel=2)
        return torch.where(zero, 0, fn(x, torch.where(zero, 1, y)))
    return impl


_UNSIGNED_FALLBACKS = {
    "add": _wrapping, "sub": _wrapping, "pow": _power, "neg": _wrapping,
    "bitwise_invert": _wrapping,
    "lt": _ordered, "le": _ordered, "gt": _ordered, "ge": _ordered, "argmax": _ordered,
    "argmin": _ordered,
    "max": _ordered_values, "min": _ordered_values, "reduce_max": _ordered_values,
    "reduce_min": _ordered_values,
    "unique_all": _unique, "nonzero": _nonzero, "abs": _abs, "sign": _sign,
    "bitwise_left_shift": _shift_left, "bitwise_right_shift": _shift_right,
    "floor_divide": _division(0), "remainder": _division(1), "searchsorted": _ordered,
    "matmul": _wrapping, "tensordot": _wrapping, "take_along_axis": _same_bits,
    "scatter_along_axis": _same_bits, "scatter_slice": _same_bits, "scatter_add": _same_bits}


def _complex_cumprod(default):
    def impl(x, axis):
        out = default(x, axis=axis)
        if not x.is_complex() or bool(torch.isfinite(x).all()):
            return out
        # torch's complex running product starts from 1 * x[0] (NaN beside an infinite
        # part: inf + 0j became inf + nan j) and parts past an infinity differ from the
        # plain products NumPy takes: those products, one step at a time
        steps = list(x.unbind(axis))
        for i in range(1, len(steps)):
            steps[i] = steps[i - 1] * steps[i]
        return torch.stack(steps, axis)
    return impl


_IMPLS = {"gather": _gather,
          "bitcast_convert_type": _bitcast,
          "flip": _flip,
          "searchsorted": _searchsorted,
          "add": _complex_safe_sum("add", 1),
          "sub": _complex_safe_sum("subtract", -1),
          "mul_add": _mul_add,
          "round": _round,
          "neg": _negative,
          "acos": _acos,
          # (torch's complex log1p is accurate, but log1p(-1e-7 - 0j) has imaginary part
          # +0.0: the same as the other backends, -0.0; its real log1p is 0 at the smallest
          # subnormal, one unit off: not patched, the check cost half of log1p's own time)
          "log1p": complex_log1p(_xp, torch.complex),
          "sinh": _hyperbolic("sinh"),
          "cosh": _hyperbolic("cosh"),
          "pow": _pow,
          "floor_divide": _zero_division_as_numpy("floor_divide"),
          "remainder": _zero_division_as_numpy("remainder"),
          "reduce_sum": _accumulation("sum", "axes"),
          "reduce_prod": _accumulation("prod", "axes"),
          "cumsum": _accumulation("cumulative_sum", "axis"),
          "cumprod": _complex_cumprod(_accumulation("cumulative_prod", "axis"))}
# (maximum and minimum of complex numbers, which torch refuses: NumPy's lexicographic rule)
_IMPLS.update(max=complex_extreme(_xp, "maximum", RuntimeError),
              min=complex_extreme(_xp, "minimum", RuntimeError))
# (and their comparisons, <, <=, >, >=, which torch has no complex kernels for)
_IMPLS.update({p: complex_comparison(_xp, name, (RuntimeError, NotImplementedError))
               for p, name in (("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                               ("ge", "greater_equal"))})
_IMPLS.update({name: _unsigned_fallback(name, fn, _IMPLS.get(name))
               for name, fn in _UNSIGNED_FALLBACKS.items()})


def _bool_fallback(name, default):
    """``default`` (the primitive as torch computes it), or, for boolean operands (torch
    has no kernels for most), NumPy's result: computed on int8 (int64 for products, whose
    sums could overflow int8, then != 0: NumPy's boolean products are booleans)."""
    product = name in ("matmul", "tensordot")
    wide = torch.int64 if product else torch.int8

    def impl(*args, **params):
        # (not only where torch refuses: a boolean tensor to a Python bool's power is a
        # boolean there, NumPy's int8)
        if not any(isinstance(a, torch.Tensor) and a.dtype is torch.bool for a in args):
            return default(*args, **params)
        out = default(*[a.to(wide) if isinstance(a, torch.Tensor) and a.dtype is torch.bool
                        else a for a in args], **params)
        return out != 0 if product else out
    return impl


# (torch has no boolean kernels for these; NumPy computes them on int8, products on bool)
_IMPLS.update({name: _bool_fallback(name, _IMPLS[name]) for name in (
    "floor_divide", "remainder", "bitwise_left_shift", "bitwise_right_shift", "pow",
    "searchsorted", "matmul", "tensordot")})


class TorchBackend(Backend):
    # torch's float32 digamma is computed in float32: 856 ulps off near its positive root
    # (x = 1.4596, SciPy 0.5); ndtri 2.4 ulps
    single_in_float64 = ("digamma", "ndtri")

    def copy(self, x):
        return x.clone()  # (asarray(copy=True) warns for tensors that require grad)

    def to_device(self, x, device):
        return x.to(device)

    def to_numpy(self, x):
        x = x.detach().cpu().resolve_conj()
        if x.dtype is torch.bfloat16:  # NumPy has no bfloat16: float32 holds every value
            x = x.to(torch.float32)
        return x.numpy()


backend = TorchBackend("torch", _namespace_with_numpy_linalg_errors(_xp), [torch.Tensor],
                       _pairs, extras={
    "scatter_add": _scatter_add,
    "eig": _numpy_linalg_error(lambda x: tuple(torch.linalg.eig(x))),
    "solve_triangular": _solve_triangular,
    "erf": torch.special.erf,
    "erfc": torch.special.erfc,
    "erfinv": torch.special.erfinv,
    "lgamma": torch.special.gammaln,
    "digamma": _digamma,
    "polygamma": _polygamma,
    "ndtri": torch.special.ndtri,
    "erfcx": torch.special.erfcx,
    "i0": _bessel_i("i0"),
    "i0e": torch.special.i0e,
    "i1": _bessel_i("i1"),
    "i1e": torch.special.i1e,
    "hurwitz_zeta": _hurwitz_zeta,
    # (the modified Bessel functions K of orders 0 and 1: about 1e-15 relative; j0, j1, y0,
    # y1: the generic ones, torch's bessel_j0... are accurate to about 2e-6 only)
    "k0": _bessel_k("k0"),
    "k0e": _bessel_k("k0e"),
    "k1": _bessel_k("k1"),
    "k1e": _bessel_k("k1e"),
    # (exp1, expi, expn, dawsn, riemann_zeta, spence, sici, fresnel, owens_t, wofz, hyp1f1,
    # hyp2f1, jv: the generic ones; torch has none of them, only J_0 and J_1 of jv, above)
    # (gammainc, gammaincc, betainc and their inverses gammaincinv, gammainccinv,
    # betaincinv: the generic ones; torch.special's gammainc and gammaincc are accurate to
    # about 2e-9 only, and it has none of the others)
}, impls=_IMPLS)
backend.xp.linalg.cholesky = _cholesky
backend.device_types = (torch.device,)
register(backend)
