"""A GPU library's own special functions, with the repairs the NumPy backend makes to SciPy's.

``cupyx.scipy.special`` ports SciPy's (Cephes') code, so it has the flaws the NumPy backend
repairs in SciPy's functions (:mod:`.numpy_backend`: ``_PATCHED``, ``_erfc_with_tail``,
``_gamma_large_shape``, ``_checked_betaincinv``, ``_checked_hyp2f1``); before session 44 the
CuPy backend used them bare, so that a CuPy array got ``gammaln(5e-324) = inf`` (744.44),
``erfc(26.7) = 0`` (5.25e-312), ``psi`` 31 % off next to its poles, ``j0(1e20)`` with no digit
right, where a NumPy array got the right values. Here the same repairs are written with the
Array API and without reading values on the host where they are cheap (a few operations on
every element, then selected: lgamma, psi, erfc, I0/I1, K0/K1), so that they run on a device
as they are: :func:`wrap` gives the function the backend uses. Those that are costly (the
generic Ei near overflow, the generic Bessel functions far out, the Hurwitz zeta function at
huge ``s``, the incomplete gamma functions at huge shapes, the inverse incomplete beta where
the library's is nan) look once (one host read) whether an element needs them. 2F1 and 1F1 are not taken from the library at all (SciPy's 2F1 is wrong in places
with no sign of it: the generic ones, as on NumPy and torch).

The module imports no GPU library: each wrapper takes the library's function and the
backend, so that the repairs are checked on the CPU with SciPy's functions (the originals of
the ports) in their place (tests/test_s44_device44.py).
"""

from __future__ import annotations

import math

from .incomplete_grads import _any_true  # (one host read; host_reads names its caller)

# the library's functions not used at all (the generic ones instead; see the module's doc)
UNUSED = frozenset({"hyp2f1", "hyp1f1"})


def _float_dtype(xp, args):
    """The floating dtype of the result: that of the floating arrays among ``args`` (None
    where there is none: the library's own choice is kept)."""
    dts = [a.dtype for a in args if hasattr(a, "dtype") and xp.isdtype(a.dtype, "real floating")]
    return xp.result_type(*dts) if dts else None


def _kept_dtype(xp, fn):
    """``fn`` giving back its floating arguments' dtype (a library's function may compute a
    float32 argument in float64 and return that: polygamma, expn on some versions)."""
    def call(*args):
        out = fn(*args)
        dt = _float_dtype(xp, args)
        if dt is None:
            return out
        if isinstance(out, tuple):
            return tuple(o if o.dtype == dt else xp.astype(o, dt) for o in out)
        return out if out.dtype == dt else xp.astype(out, dt)
    return call


def _arrays(xp, args, like):
    """``args`` as arrays of ``like``'s dtype and device, broadcast together."""
    arrays = [a if hasattr(a, "dtype") else xp.asarray(a, dtype=like.dtype, device=like.device)
              for a in args]
    return xp.broadcast_arrays(*arrays)


def _select(xp, bad, other, args, stand_ins, out):
    """``out`` with ``other(*args)`` where ``bad``; ``other`` sees ``stand_ins`` elsewhere
    (values where it is quick and finite), so that no element raises or costs more."""
    safe = [xp.where(bad, a, xp.full_like(a, s)) for a, s in zip(args, stand_ins)]
    return xp.where(bad, other(*safe), out)


def _floating(xp, args, out):
    return all(hasattr(a, "dtype") and xp.isdtype(a.dtype, "real floating")
               for a in (*args, out)) and out.dtype != xp.float16


# -- the repairs: (backend, library function) -> function ---------------------------------------

def _lgamma(backend, fn):
    # Cephes' lgamma is inf at nonzero |x| below about 5.5e-309 (-log|x| there: 744.44 at
    # 5e-324) and -inf at -inf (C99's lgamma, torch and JAX: +inf)
    xp = backend.xp

    def lgamma(x):
        out = fn(x)
        if not _floating(xp, (x,), out):
            return out
        bad = xp.isinf(out) & ((x == -math.inf) | ((x != 0.0) & (xp.abs(x) < 1e-300)))
        ax = xp.where(bad, xp.abs(x), xp.ones_like(x))
        return xp.where(bad, xp.where(x == -math.inf, xp.full_like(x, math.inf), -xp.log(ax)),
                        out)
    return lgamma


def _digamma(backend, fn):
    # Cephes' psi within d of a negative integer is about 1.5e-16/d off relative (31 % at
    # -1 + 2**-52): there the reflection psi(1 - x) - pi / tan(pi d), d = x - round(x) exact
    xp = backend.xp

    def digamma(x):
        out = fn(x)
        if not _floating(xp, (x,), out):
            return out
        r = xp.round(x)
        near = (x < 0.0) & (xp.abs(x - r) < 0.0625) & (x != r)
        xn = xp.where(near, x, xp.full_like(x, 0.5))
        refl = fn(1.0 - xn) - math.pi / xp.tan(math.pi * (xn - xp.round(xn)))
        return xp.where(near, refl, out)
    return digamma


def _erfc(backend, fn, erfcx):
    # Cephes' erfc multiplies by exp(-x^2) of the rounded x^2 (500 ulp at 26) and is 0 from
    # 26.64, where erfc is subnormal up to 27.23: from 3.5 on erfcx(x) exp(-x^2), x^2 exact
    from .numpy_backend import ERFC_TAIL
    from .exact_square import exp_c_square
    xp = backend.xp

    def erfc(x):
        out = fn(x)
        if not hasattr(x, "dtype") or x.dtype != xp.float64 or erfcx is None:
            return out
        tail = x >= ERFC_TAIL
        xt = xp.where(tail, x, xp.full_like(x, ERFC_TAIL))
        return xp.where(tail, erfcx(xt) * exp_c_square(xp, xt, -1.0), out)
    erfc.below_tail = fn   # (for arguments known to lie below the tail, as NumPy's erfc)
    return erfc


def _generic_where(backend, fn, name, mask, stand_in, look=False):
    """``fn``, and the generic function ``name`` of :mod:`.special_generic` where
    ``mask(xp, *args, out)``; with ``look``, only after one host read finds such an element
    (the generic one is costly)."""
    xp = backend.xp

    def repaired(*args):
        out = fn(*args)
        if not _floating(xp, args, out):
            return out
        args = _arrays(xp, args, out)
        bad = mask(xp, *args, out)
        if look and not _any_true(backend, bad):
            return out
        from . import special_generic
        other = getattr(special_generic, name)
        return _select(xp, bad, lambda *a: other(backend, *a), args, stand_in, out)
    repaired.__name__ = name
    return repaired


def _bessel_i(backend, fn, scaled):
    # Cephes' I0 and I1 (e^|x| times a series) overflow from 709.78, where I(x) is finite up
    # to 713.98: there the scaled function times e^|x| as (e^(|x|/2))^2, within a few ulp
    xp = backend.xp

    def bessel_i(x):
        out = fn(x)
        if not _floating(xp, (x,), out) or scaled is None:
            return out
        h = xp.exp(xp.abs(x) * 0.5)
        return xp.where(xp.isinf(out) & (xp.abs(x) < 714.0), (scaled(x) * h) * h, out)
    return bessel_i


_K0_TINY = math.log(2.0) - 0.5772156649015329  # (log 2 - Euler's gamma)


def _bessel_k(backend, fn, order):
    # Cephes' K0 and K1 (scaled or not) are inf and nan at x = 5e-324 (x / 2 is 0): below
    # 1e-300 K0 = -log(x / 2) - euler_gamma and K1 = 1 / x to rounding (their next terms,
    # x^2 log x, far below; e^x = 1 in the scaled ones)
    xp = backend.xp

    def bessel_k(x):
        out = fn(x)
        if not _floating(xp, (x,), out):
            return out
        bad = ~xp.isfinite(out) & (x > 0.0) & (x < 1e-300)
        xs = xp.where(bad, x, xp.ones_like(x))
        return xp.where(bad, (_K0_TINY - xp.log(xs)) if order == 0 else 1.0 / xs, out)
    return bessel_k


def _overflowing_ei(xp, x, out):
    # (e^x overflows from 709.8; Ei(x) ~ e^x / x is finite up to 716.6)
    return (out == math.inf) & (x < 717.0)


def _far_bessel(xp, x, out):
    # (the phase x - pi/4 taken in floating point: about x eps relative, every digit wrong at
    # 1e20; the generic ones reduce x exactly)
    return (xp.abs(x) >= 1000.0) & xp.isfinite(x)


def _zeta_huge_s(xp, s, q, out):
    # (nan for s past about 1e14 at q > 1, where the value is q^-s)
    return xp.isnan(out) & (s > 1.0) & (q > 0.0) & ~xp.isnan(s) & ~xp.isnan(q)


def _gamma_large_shape(backend, fn, name):
    # Cephes' incomplete gamma functions (and so their inverses) lose accuracy below the
    # centre for shapes of about 1e6 and more (gammainc(1e6, 992000) 1.1e-8 off): the generic
    # ones (Temme's expansion) from a = 1e5, after one look for such an element
    from . import generic
    from .numpy_backend import _GAMMA_LARGE_SHAPE
    other = getattr(generic, name)
    inverse = name.endswith("inv")
    xp = backend.xp

    def repaired(a, x):
        out = fn(a, x)
        if not _floating(xp, (a, x), out):
            return out
        a, x = _arrays(xp, (a, x), out)
        bad = (a >= _GAMMA_LARGE_SHAPE) & xp.isfinite(a) & (x > 0.0) & xp.isfinite(x)
        if inverse:
            bad = bad & (x < 1.0)
        if not _any_true(backend, bad):
            return out
        return _select(xp, bad, lambda *v: other(backend, *v), (a, x),
                       (1.0, 0.5), out)
    repaired.__name__ = name
    return repaired


def _betaincinv(backend, fn):
    # SciPy's betaincinv (and so its ports) is nan inside the domain at a tiny y and moderate
    # shapes (betaincinv(3, 3, 1e-120), true 4.64e-41): the generic one there
    from .generic import betaincinv as other
    xp = backend.xp

    def betaincinv(a, b, y):
        out = fn(a, b, y)
        if not _floating(xp, (a, b, y), out):
            return out
        a, b, y = _arrays(xp, (a, b, y), out)
        bad = (xp.isnan(out) & (a > 0.0) & (b > 0.0) & xp.isfinite(a) & xp.isfinite(b)
               & (y > 0.0) & (y < 1.0))
        if not _any_true(backend, bad):
            return out
        return _select(xp, bad, lambda *v: other(backend, *v), (a, b, y), (1.0, 1.0, 0.5),
                       out)
    return betaincinv


def wrap(backend, name, fn, library):
    """The function the backend uses for the extra ``name`` from the library's ``fn``
    (``library``: the library's special-function module, for the functions a repair uses),
    or None where the generic one is to be used instead."""
    if name in UNUSED:
        return None
    xp = backend.xp
    if name == "lgamma":
        fn = _lgamma(backend, fn)
    elif name == "digamma":
        fn = _digamma(backend, fn)
    elif name == "erfc":
        fn = _erfc(backend, fn, getattr(library, "erfcx", None))
    elif name in ("i0", "i1"):
        fn = _bessel_i(backend, fn, getattr(library, name + "e", None))
    elif name in ("k0", "k0e", "k1", "k1e"):
        fn = _bessel_k(backend, fn, int(name[1]))
    elif name == "expi":
        fn = _generic_where(backend, fn, name, _overflowing_ei, (1.0,), look=True)
    elif name in ("j0", "j1", "y0", "y1"):
        fn = _generic_where(backend, fn, name, _far_bessel, (1.0,), look=True)
    elif name == "hurwitz_zeta":
        fn = _generic_where(backend, fn, "zeta", _zeta_huge_s, (2.0, 1.0), look=True)
    elif name in ("gammainc", "gammaincc", "gammaincinv", "gammainccinv"):
        fn = _gamma_large_shape(backend, fn, name)
    elif name == "betaincinv":
        fn = _betaincinv(backend, fn)
    return _kept_dtype(xp, fn)
