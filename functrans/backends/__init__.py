"""Backends: the layer through which every primitive's ``impl`` reaches an array library.

A :class:`Backend` bundles one library's Array API namespace (``backend.xp``, through
array-api-compat where the library itself is not compliant), the array types it owns, device
handling, the mapping between its dtypes and functrans's :class:`~functrans.dtypes.DType`,
and named *extras* that the standard lacks (:data:`EXTRAS`).

Dispatch is a dictionary look-up on ``type(array)`` (``_by_type``, read directly by the
evaluation interpreter). A built-in backend module is imported the first time one of its
arrays is seen (or its name is asked for), so ``import functrans`` never imports torch or
CuPy. Third-party backends register through the entry-point group ``functrans.backends``;
they are loaded the same lazy way (see :func:`resolve_type` and ``docs/backends.md``).
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import contextvars
import sys
import warnings

from .. import dtypes as _dt
from ..errors import BackendMismatchError, UnsupportedBackendError

ENTRY_POINT_GROUP = "functrans.backends"

# The extras functrans knows, with the contract every implementation follows. A backend may
# offer more names; primitives only ask for these.
EXTRAS = {
    "scatter_add": """scatter_add(x, index, values, /, *, axis=0) -> array

        A copy of ``x`` with ``values`` added at integer positions: the transpose of
        integer-array indexing (gather), i.e. ``x[(:,) * axis + index] += values`` with
        repeated positions accumulating (NumPy's ``np.add.at``). ``index`` is one integer
        array (positions along ``axis``: the transpose of ``take(x, index, axis=axis)``) or a
        tuple of ``k`` integer arrays of one shape addressing axes ``axis .. axis + k - 1``
        (the transpose of ``x[i0, i1]``). Entries lie in ``[-n, n)`` for the length ``n`` of
        their axis; negative ones count from the end; out-of-range entries are an error on
        NumPy and undefined elsewhere. ``values`` has shape
        ``x.shape[:axis] + index_shape + x.shape[axis + k:]`` and ``x``'s dtype. ``x`` is
        never modified; the result is on ``x``'s device.""",
    "erf": "erf(x) -> array: the error function, elementwise on a real floating array.",
    "erfc": "erfc(x) -> array: the complementary error function 1 - erf(x), accurate where "
            "erf(x) is close to 1.",
    "erfinv": "erfinv(x) -> array: the inverse of erf on (-1, 1); +-inf at +-1, nan beyond.",
    "ndtri": "ndtri(p) -> array: the inverse of the standard normal CDF on (0, 1), accurate "
             "in both tails (p down to the smallest floats); -inf at 0, inf at 1, nan "
             "beyond.",
    "lgamma": "lgamma(x) -> array: log |Gamma(x)|, elementwise.",
    "digamma": "digamma(x) -> array: d/dx lgamma(x), elementwise.",
    "polygamma": "polygamma(n, x) -> array: the n-th derivative of digamma (n a Python int "
                 ">= 0; polygamma(0, x) is digamma(x)).",
    "gammainc": "gammainc(a, x) -> array: the regularized lower incomplete gamma function "
                "P(a, x) (a > 0, x >= 0), elementwise on broadcast real floating arrays.",
    "gammaincc": "gammaincc(a, x) -> array: the regularized upper incomplete gamma function "
                 "1 - P(a, x), computed directly (accurate where it is tiny).",
    "betainc": "betainc(a, b, x) -> array: the regularized incomplete beta function "
               "I_x(a, b) (a, b > 0, 0 <= x <= 1).",
    "betaincc": "betaincc(a, b, x) -> array: the complement 1 - I_x(a, b) of betainc, "
                "computed directly (accurate where it is tiny).",
    "gammaincinv": "gammaincinv(a, y) -> array: x with gammainc(a, x) = y (a > 0, 0 < y < 1; "
                   "the namespace gives the edges their values).",
    "gammainccinv": "gammainccinv(a, y) -> array: x with gammaincc(a, x) = y (a > 0, "
                    "0 < y < 1), accurate where y is tiny.",
    "betaincinv": "betaincinv(a, b, y) -> array: x with betainc(a, b, x) = y (a, b > 0, "
                  "0 < y < 1).",
    "gammainc_da": "gammainc_da(n, a, x) -> array: d^n/da^n of gammainc(a, x), n = 1 or 2 "
                   "(a > 0, x >= 0; 0 at x = 0 and x = inf), accurate relative to its own "
                   "size where gammainc or gammaincc is tiny.",
    "betainc_dab": "betainc_dab(i, j, a, b, x) -> array: d^(i+j)/da^i db^j of betainc(a, b, x) "
                   "for i, j >= 0 with i + j = 1, 2 or 3 (a, b > 0, "
                   "0 <= x <= 1; 0 at x = 0 and x = 1), accurate relative to its own size "
                   "where betainc or 1 - betainc is tiny.",
    "erfcx": "erfcx(x) -> array: the scaled complementary error function exp(x^2) erfc(x).",
    "i0": "i0(x) -> array: the modified Bessel function of the first kind of order 0.",
    "i0e": "i0e(x) -> array: exp(-|x|) i0(x).",
    "i1": "i1(x) -> array: the modified Bessel function of the first kind of order 1.",
    "i1e": "i1e(x) -> array: exp(-|x|) i1(x).",
    "exp1": "exp1(x) -> array: the exponential integral E_1(x) = int_1^inf exp(-x t) / t dt "
            "(x > 0; inf at 0, nan below).",
    "expi": "expi(x) -> array: the exponential integral Ei(x) (principal value; -E_1(-x) for "
            "x < 0, -inf at 0).",
    "expn": "expn(n, x) -> array: the generalized exponential integral E_n(x) for a Python "
            "int n >= 0 (x >= 0; nan below).",
    "dawsn": "dawsn(x) -> array: Dawson's integral exp(-x^2) int_0^x exp(t^2) dt.",
    "hurwitz_zeta": "hurwitz_zeta(s, q) -> array: the Hurwitz zeta function sum_k (q + k)^-s, "
                    "elementwise on two real floating arrays of one shape (s > 1 finite, q "
                    "finite and not a pole: the namespace gives the edges their values).",
    "riemann_zeta": "riemann_zeta(s) -> array: the Riemann zeta function for real s "
                    "(analytic continuation below 1; inf at 1).",
    "spence": "spence(z) -> array: int_1^z log t / (1 - t) dt = Li2(1 - z) for real z >= 0 "
              "(nan below and at inf).",
    "sici": "sici(x) -> (si, ci): the sine and cosine integrals; ci of |x| for x < 0 (the "
            "real part), ci(0) = -inf.",
    "fresnel": "fresnel(x) -> (s, c): the Fresnel integrals of sin(pi t^2 / 2) and "
               "cos(pi t^2 / 2) from 0 to x.",
    "owens_t": "owens_t(h, a) -> array: Owen's T function, elementwise on two real floating "
               "arrays of one shape.",
    "wofz": "wofz(z) -> array: the Faddeeva function exp(-z^2) erfc(-iz), elementwise on a "
            "complex array (finite values; the namespace gives the others theirs).",
    "hyp1f1": "hyp1f1(a, b, x) -> array: Kummer's confluent hypergeometric function M(a, b, x) "
              "on three real floating arrays of one shape (finite; b not a non-positive "
              "integer unless a is one with a >= b, a polynomial).",
    "hyp2f1": "hyp2f1(a, b, c, x) -> array: the Gauss hypergeometric function 2F1(a, b; c; x) "
              "on four real floating arrays of one shape (finite; x <= 1 unless a or b is a "
              "non-positive integer; c not a non-positive integer unless the series ends "
              "first).",
    "jv": "jv(v, z) -> array: the Bessel function of the first kind J_v(z) on two real "
          "floating arrays of one shape (finite; nan for z < 0 with v not an integer).",
    "ive": "ive(v, x) -> array: the scaled modified Bessel function of the first kind "
           "exp(-|x|) I_v(x) on two real floating arrays of one shape (finite; x < 0 only "
           "with an integer v; 1, 0 or inf at x = 0 for v = 0, v > 0 and a negative "
           "fractional v).",
    "j0": "j0(x) -> array: the Bessel function of the first kind of order 0 (nan at +-inf).",
    "j1": "j1(x) -> array: the Bessel function of the first kind of order 1 (nan at +-inf).",
    "y0": "y0(x) -> array: the Bessel function of the second kind of order 0 (x > 0; -inf "
          "at 0, nan below).",
    "y1": "y1(x) -> array: the Bessel function of the second kind of order 1 (x > 0; -inf "
          "at 0, nan below).",
    "k0": "k0(x) -> array: the modified Bessel function of the second kind of order 0 "
          "(x > 0; inf at 0, nan below).",
    "k0e": "k0e(x) -> array: exp(x) k0(x).",
    "k1": "k1(x) -> array: the modified Bessel function of the second kind of order 1 "
          "(x > 0; inf at 0, nan below).",
    "k1e": "k1e(x) -> array: exp(x) k1(x).",
    "solve_triangular": "solve_triangular(a, b, lower) -> array: a^{-1} b for a stack of "
                        "triangular matrices a (..., M, M) (zero outside the lower triangle "
                        "if lower, else the upper) and b (..., M, K) of the same batch shape.",
    "eig": "eig(x) -> (w, v): eigenvalues (..., n) and right eigenvectors (..., n, n) (columns "
           "of unit 2-norm) of a stack of square real or complex matrices, both complex "
           "(complex64 for float32/complex64 input, else complex128) whatever the values.",
}


def _dtype_list(backend) -> str:
    """The dtypes a backend has, by name, for error messages."""
    return ", ".join(d.name for d in _dt.ALL if d in backend._to_native)


# Extras computed in the operands' own precision, float16 included: the others compute
# float16 and bfloat16 in float32 (Backend._half_in_float32); the linear algebra ones are
# refused in half precision before they are reached (functrans.primitives.linalg).
_ANY_PRECISION = ("scatter_add", "solve_triangular", "eig")


class Backend:
    """One array library as seen by functrans.

    Args:
        name: short name (``"numpy"``, ``"array_api_strict"``, ``"torch"``...).
        xp: the library's Array API namespace (``array_api_compat.numpy``...).
        array_types: the concrete types whose instances belong to this backend (subclasses
            are found too).
        dtypes: pairs ``(native dtype, functrans DType)``; the first native dtype given for a
            DType is the one functrans creates.
        extras: functions the standard lacks, by name (see :data:`EXTRAS`); each is called
            without the backend, e.g. ``extras={"erf": mylib.special.erf}``.
        impls: optional direct implementations of primitives, by primitive name, called as
            ``impl(*args, **params)`` instead of the primitive's generic ``impl`` (which goes
            through ``xp``): a way past the Python layers of a compatibility namespace on
            the hottest operations. Each must give exactly what the generic one gives.

    Subclasses may override :meth:`load_extra` (find an extra lazily, e.g. in SciPy),
    :meth:`device`, :meth:`as_array` and :meth:`to_numpy`.

    Example:
        >>> import functrans.backends as fb
        >>> b = fb.get_backend("numpy")
        >>> b.extra("scatter_add")(b.xp.zeros(3), b.xp.asarray([0, 2, 0]),
        ...                        b.xp.asarray([1.0, 2.0, 3.0]))
        array([4., 0., 2.])
    """

    # Whether the library's take wraps an out-of-range index around instead of raising
    # (CuPy's does, for speed): gathers then clamp it, as JAX's staged gathers do, rather than
    # read another element silently.
    index_wraps = False

    # Whether the library's sort, argsort, max, min, argmax, argmin and searchsorted order
    # complex numbers as NumPy does (NaNs included); where not (the standard's are for real
    # dtypes only), those primitives use functrans.backends.complex_order instead.
    orders_complex = False

    # Names of this library's own extras whose single-precision kernels are not accurate to
    # a few ulps: float32 operands are computed in float64 and the results rounded back, as
    # for the generic extras (Backend._single_in_float64).
    single_in_float64 = ()
    # Implementations for one operand type of this library, by primitive name: {name: {type:
    # fn}}, put in the primitive's cache in place of the backend's for that type (the NumPy
    # backend's real scalars' own operators: see there). fn takes what the backend's does.
    type_impls = {}

    def __init__(self, name, xp, array_types, dtypes, extras=None, impls=None):
        self.name = name
        self.xp = xp
        self.array_types = tuple(array_types)
        self._to_dtype = {}
        self._to_native = {}
        # The Python types of the native dtype objects: lookup_dtype compares an object only
        # with dtypes of its own library (libraries' dtypes may hash equal across libraries).
        self._native_dtype_types = ()
        # This library's floating-point dtype objects (functrans.numpy's fast paths test
        # ``x.dtype in`` them: a dtype's own hash, cached by NumPy, against the id() test's
        # fresh integer; and only against dtypes of its library, see lookup_dtype).
        self.inexact_natives = frozenset()
        self.add_dtypes(dtypes)
        self.extras = dict(extras or {})
        self.impls = dict(impls or {})
        self._extra_cache = {}
        # Types of this library's device objects (torch.device...), for backend_of_device.
        self.device_types = ()
        # Whether its arrays may live on more than one device (jit keys its graphs by the
        # device only where they may).
        self.devices = True

    def __repr__(self):
        return f"<functrans backend {self.name!r}>"

    def add_dtypes(self, dtypes, array_types=()):
        """Map more native dtypes, pairs ``(native dtype, functrans DType)`` as the
        constructor's, and own more array types (a library's scalar type of a dtype added
        late: ml_dtypes' bfloat16 for NumPy). On a registered backend, call
        :func:`register` again afterwards, so that the caches keyed by type start over."""
        dtypes = list(dtypes)
        for native, dt in dtypes:
            self._to_dtype[native] = dt
            self._to_native.setdefault(dt, native)
            _dt.register_native(native, dt)
        self._native_dtype_types = tuple(dict.fromkeys(
            self._native_dtype_types + tuple(type(native) for native, _ in dtypes)))
        self.inexact_natives = self.inexact_natives | frozenset(
            n for n, dt in dtypes if dt.kind in "fc")
        self.array_types = self.array_types + tuple(
            t for t in array_types if t not in self.array_types)

    def owns(self, x) -> bool:
        """Whether ``x`` is an array of this backend."""
        return isinstance(x, self.array_types)

    def writer_into(self, name: str):
        """The library's function ``name`` (an elementwise one, or ``concat``) taking
        ``out=`` and computing exactly what the namespace's function does, for graph
        evaluation to reuse memory (see functrans.buffers); None where the library has
        none (the standard has no ``out=``; NumPy opts in)."""
        return None

    def sole_owner(self, x):
        """The array owning the memory that ``x``, a view, looks into, where ``x`` is its
        only holder (so that it dies with ``x``); None otherwise or where unknown."""
        return None

    def overwritable(self, x) -> bool:
        """Whether ``x`` is an array type that owns its memory and may be written (the
        caller checks that nothing else holds it)."""
        return False

    # -- dtypes --------------------------------------------------------------------------
    def dtype(self, x) -> _dt.DType:
        """The functrans dtype of one of this backend's arrays."""
        try:
            return self._to_dtype[x.dtype]
        except KeyError:
            raise UnsupportedBackendError(
                f"Backend {self.name!r}: arrays of dtype {x.dtype} are not supported by "
                f"functrans on this library (it has {_dtype_list(self)}). Cast the array "
                f"first, for example with astype(x, float32).") from None

    def native_dtype(self, dtype):
        """This library's dtype object for a functrans dtype (or anything ``as_dtype`` takes)."""
        if dtype is None:
            return None
        d = dtype if isinstance(dtype, _dt.DType) else _dt.as_dtype(dtype)
        try:
            return self._to_native[d]
        except KeyError:
            raise UnsupportedBackendError(
                f"Backend {self.name!r} has no dtype {d.name} (it has {_dtype_list(self)}); "
                f"use one of those, or arrays of a library that has {d.name}.") from None

    # -- creation and devices ----------------------------------------------------------------
    def asarray(self, value, dtype=None, device=None):
        """An array of this library from a Python scalar, sequence or array."""
        kw = {}
        if dtype is not None:
            kw["dtype"] = self.native_dtype(dtype)
        if device is not None:
            kw["device"] = device
        return self.xp.asarray(value, **kw)

    def device(self, x):
        """The device of one of this backend's arrays (what ``device=`` arguments take)."""
        return x.device

    def to_device(self, x, device):
        """``x`` moved to ``device`` of the same library (a no-op if it is there)."""
        return self.xp.asarray(x, device=device) if device != self.device(x) else x

    def copy(self, x):
        """A new array holding the values of ``x`` (an immutable scalar may be returned as it
        is)."""
        return self.xp.asarray(x, copy=True)

    # Whether the library's arrays can be written in place (``x[index] = v``); functions with
    # NumPy's in-place semantics (``fnp.put``, ``fnp.copyto``...) need it on a plain array.
    writable = True

    def set_items(self, x, index, values):
        """``x`` with ``x[index] = values``, for ``x`` a new array of the caller's own (it may
        be written and returned): the standard's ``__setitem__``, unless the library's arrays
        cannot be written (JAX's; see :mod:`.standard_backend`)."""
        x[index] = values
        return x

    def refused_subclass(self, t: type) -> str | None:
        """Why arrays of ``t``, a subclass of one of this library's array types, cannot be
        taken (an error message), or None to take them as the library's arrays."""
        return None

    def as_array(self, x):
        """``x`` as an array of this library (NumPy turns its scalars into 0-d arrays)."""
        return x

    def to_numpy(self, x):
        """A NumPy copy (or view) of ``x``, for printing and tests."""
        import numpy as np
        return np.from_dlpack(x)

    # -- extras ----------------------------------------------------------------------------
    def extra(self, name: str):
        """The extra ``name`` as a callable (see :data:`EXTRAS` for the contracts): this
        backend's own, else the generic one written on the standard, else a clear error."""
        fn = self._extra_cache.get(name)
        if fn is None:
            fn = self._extra_cache[name] = self._find_extra(name)
        return fn

    def _half_in_float32(self, fn):
        """``fn`` (a special function) computing float16/bfloat16 operands in float32 and
        giving its floating results back in their dtype, as JAX does: libraries have no
        half-precision versions of these, or upcast silently (SciPy gives float64), and the
        generic series lose their accuracy in 16 bits."""
        f32 = self._to_native[_dt.float32]
        return self._computed_wider(fn, {dt: f32 for dt in _dt.HALF if dt in self._to_native})

    def _single_in_float64(self, fn):
        """``fn`` (a special function) computing float32, complex64 and half-precision
        operands in float64 (complex128) and giving its floating results back in their
        precision, as SciPy computes its float32 loops in double: the generic series and
        some libraries' single-precision kernels lose far more than an ulp (torch's float32
        digamma 856 ulps near its root at 1.4616, the generic lgamma 8800 ulps near 1, erfc
        64 in its tail). Operands already in 64 bits are left as they are."""
        native = self._to_native
        f64, c128 = native.get(_dt.float64), native.get(_dt.complex128)
        if f64 is None or not self._makes_float64():
            return self._half_in_float32(fn)
        wider = {dt: c128 if dt.kind == "c" else f64
                 for dt in (_dt.float16, _dt.bfloat16, _dt.float32, _dt.complex64)
                 if dt in native and (dt.kind == "f" or c128 is not None)}
        return self._computed_wider(fn, wider, full=(_dt.float64, _dt.complex128))

    def _computed_wider(self, fn, wider, full=()):
        """``fn`` computing its operands whose dtype is a key of ``wider`` (functrans dtypes)
        in the native dtype it maps to, and giving its floating results back in the
        precision of the first such operand (float32 and complex64 for a single-precision
        one, the half dtype for a half one). Called as it is where no operand is narrow, or
        where one has a dtype of ``full`` (already the precision computed in)."""
        if not wider:
            return fn
        xp, to_dtype, native = self.xp, self._to_dtype, self._to_native

        def call(*args):
            low = None  # (the first narrow operand's dtype: the results' precision)
            for a in args:
                d = getattr(a, "dtype", None)
                dt = None if d is None else to_dtype.get(d)
                if dt in full:
                    return fn(*args)
                if low is None and dt in wider:
                    low = dt
            if low is None:
                return fn(*args)
            up = []
            for a in args:
                d = getattr(a, "dtype", None)
                dt = None if d is None else to_dtype.get(d)
                up.append(xp.astype(a, wider[dt]) if dt in wider else a)
            out = fn(*up)
            single = low in (_dt.float32, _dt.complex64)
            real = native[_dt.float32] if single else native[low]
            cplx = native.get(_dt.complex64) if single else None
            back = []
            for o in (out if isinstance(out, tuple) else (out,)):
                if xp.isdtype(o.dtype, "real floating"):
                    o = xp.astype(o, real)
                elif cplx is not None and xp.isdtype(o.dtype, "complex floating"):
                    o = xp.astype(o, cplx)
                back.append(o)
            return tuple(back) if isinstance(out, tuple) else back[0]
        call.__name__ = getattr(fn, "__name__", "extra")
        call.__wrapped__ = fn
        return call

    def _makes_float64(self):
        """Whether this library's float64 arrays are float64 (JAX without x64 narrows them
        to float32, with a warning)."""
        f64 = self._to_native[_dt.float64]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return self.xp.zeros((), dtype=f64).dtype == f64
        except Exception:
            return False

    def has_extra(self, name: str) -> bool:
        try:
            self.extra(name)
        except UnsupportedBackendError:
            return False
        return True

    def load_extra(self, name: str):
        """Hook for subclasses: the library's implementation of extra ``name`` found lazily
        (e.g. importing SciPy on first use), or None."""
        return None

    def _find_extra(self, name):
        fn = self.extras.get(name)
        if fn is None:
            fn = self.load_extra(name)
        generic = False
        if fn is None:
            from .generic import GENERIC
            g = GENERIC.get(name)
            if g is not None:
                fn, generic = functools.partial(g, self), True
        if fn is not None and name not in _ANY_PRECISION:
            # (the generic versions, written for float64, and the library's own where it
            # names them in single_in_float64: float32 computed in float64)
            if generic or name in self.single_in_float64:
                fn = self._single_in_float64(fn)
            else:
                fn = self._half_in_float32(fn)
        if fn is None:
            if name not in EXTRAS:
                raise UnsupportedBackendError(
                    f"functrans knows no extra named {name!r}; known extras: "
                    f"{', '.join(EXTRAS)}.")
            raise UnsupportedBackendError(
                f"Backend {self.name!r} does not provide {name!r}, and functrans has no "
                f"generic fallback for it. Use a backend that has it (numpy with SciPy "
                f"installed, torch, cupy), or register one with "
                f"functrans.backends.register_extra({self.name!r}, {name!r}, fn).")
        return fn


# -- the registry ------------------------------------------------------------------------------

# type -> backend: the dispatch table (core reads it directly). Mutated in place, never
# rebound, so modules may hold a reference to it.
_by_type: dict[type, Backend] = {}
_by_name: dict[str, Backend] = {}
# Called (without arguments) after the registry changes: caches keyed by array type drop
# their entries (the core's per-primitive implementations).
_registry_hooks: list = []
# Built-in backends: name (also the array library's top-level module) -> module to import.
_lazy_modules = {
    "numpy": "functrans.backends.numpy_backend",
    "array_api_strict": "functrans.backends.array_api_strict_backend",
    "torch": "functrans.backends.torch_backend",
    "cupy": "functrans.backends.cupy_backend",
}
# Packages of dtypes (and their scalar types) that a built-in backend takes up once one of
# their dtypes or scalars arrives: ml_dtypes' bfloat16 is NumPy's (NumPyBackend.load_bfloat16).
_DTYPE_MODULES = {"ml_dtypes": "numpy"}


def _load_dtype_module(root):
    b = get_backend(_DTYPE_MODULES[root])
    b.load_bfloat16(import_it=False)


_BUILTIN_PACKAGES = {"numpy": "numpy", "array_api_strict": "array-api-strict",
                     "torch": "torch (pip install 'functrans[torch]')",
                     "cupy": "cupy (pip install 'functrans[gpu]') and a CUDA GPU"}


def register(backend: Backend) -> Backend:
    """Make ``backend`` known by its name and the owner of its array types; returns it."""
    if not isinstance(backend, Backend):
        raise TypeError(f"register expects a functrans.backends.Backend; got {backend!r}")
    _by_name[backend.name] = backend
    for t in backend.array_types:
        _by_type[t] = backend
    # Re-registering a name: types cached for the old backend (subclasses too) move over.
    for t, b in list(_by_type.items()):
        if b is not backend and b.name == backend.name:
            _by_type[t] = backend
    for hook in _registry_hooks:
        hook()
    return backend


def unregister(name: str) -> None:
    """Forget the backend ``name`` (its arrays then belong to no backend until it is
    registered or loaded again). Mostly for tests and for reloading a plugin."""
    b = _by_name.pop(name, None)
    for t, owner in list(_by_type.items()):
        if owner is b:
            del _by_type[t]
    _loaded_eps.discard(name)
    for t, owner in list(_by_device_type.items()):
        if owner is b:
            del _by_device_type[t]
    if _default.get() is b and b is not None:
        _default.set(None)
    for hook in _registry_hooks:
        hook()


def register_extra(backend_name: str, name: str, fn) -> None:
    """Add or replace the extra ``name`` of a registered backend (``fn`` is called without
    the backend; see :data:`EXTRAS` for the signatures)."""
    b = get_backend(backend_name)
    b.extras[name] = fn
    b._extra_cache.pop(name, None)


def get_backend(name: str) -> Backend:
    """The backend of this name: registered, built in (imported now) or from an entry point."""
    b = _by_name.get(name)
    if b is not None:
        return b
    if name in _lazy_modules:
        try:
            importlib.import_module(_lazy_modules[name])
        except ImportError as e:
            raise UnsupportedBackendError(
                f"The {name!r} backend needs {_BUILTIN_PACKAGES[name]}, which could not be "
                f"imported ({e}).") from e
    else:
        for ep in _entry_points():
            if ep.name == name:
                _load_entry_point(ep, strict=True)
    b = _by_name.get(name)
    if b is None:
        raise UnsupportedBackendError(
            f"No backend named {name!r}; known: {', '.join(available_backends())}. "
            f"Third-party backends register through the entry-point group "
            f"{ENTRY_POINT_GROUP!r}.")
    return b


def available_backends() -> list[str]:
    """Names of the backends that can be used here: registered ones, built-in ones whose
    library is installed, and those declared by installed packages' entry points."""
    import importlib.util
    names = set(_by_name)
    for name in _lazy_modules:
        if name not in names and importlib.util.find_spec(name) is not None:
            names.add(name)
    names.update(ep.name for ep in _entry_points())
    return sorted(names)


def lookup_dtype(obj) -> _dt.DType | None:
    """The functrans DType equal to the native dtype object ``obj`` of a registered backend
    (by equality: array-api-strict, for one, makes a new dtype object per array), or None.
    The built-in backend named after the dtype's module is loaded first if it is not yet
    (a dtype can arrive before any of its library's arrays has been seen)."""
    root = type(obj).__module__.split(".")[0]
    if root in _lazy_modules and root not in _by_name:
        try:
            get_backend(root)
        except UnsupportedBackendError:
            return None
    elif root in _DTYPE_MODULES:
        _load_dtype_module(root)
    for b in list(_by_name.values()):
        if isinstance(obj, b._native_dtype_types):
            try:
                d = b._to_dtype.get(obj)
            except TypeError:  # unhashable
                return None
            if d is not None:
                return d
    return None


_by_device_type: dict[type, Backend] = {}


def backend_of_device(device) -> Backend | None:
    """The backend whose library a device object belongs to (a ``torch.device``, a CuPy
    ``Device``, an array-api-strict ``Device``...), or None for None and strings such as
    ``"cpu"``, which do not name a library. Cached per device type, so it is cheap."""
    t = type(device)
    b = _by_device_type.get(t)
    if b is not None or device is None or t is str:
        return b
    for b in list(_by_name.values()):
        if b.device_types and isinstance(device, b.device_types):
            _by_device_type[t] = b
            return b
    root = t.__module__.split(".")[0]
    if root in _lazy_modules and root not in _by_name:
        try:
            b = get_backend(root)
        except UnsupportedBackendError:
            return None
        if b.device_types and isinstance(device, b.device_types):
            _by_device_type[t] = b
            return b
    return None


def backend_of(x) -> Backend:
    """The backend owning array ``x`` (a dictionary hit after the first call per type)."""
    b = _by_type.get(type(x))
    if b is None:
        b = resolve_type(type(x), x)
    return b


def resolve_type(t: type, example=None) -> Backend:
    """Find the backend of a type not yet in the dispatch table, and cache it there.

    In order: a subclass of a known array type; a built-in backend named after the type's
    top-level module (imported now); an entry point of that name; then every other entry
    point of the group (loaded once each); then, given an ``example`` of the type that is an
    Array API array (array-api-compat recognises it), a backend made from its namespace
    (:mod:`.standard_backend`). Raises UnsupportedBackendError if none owns it.
    """
    b = _by_subclass(t)
    if b is not None:
        return b
    root = t.__module__.split(".")[0]
    if root in _lazy_modules and root not in _by_name:
        importlib.import_module(_lazy_modules[root])
        b = _by_type.get(t) or _by_subclass(t)
        if b is not None:
            return b
    elif root in _DTYPE_MODULES:
        _load_dtype_module(root)
        b = _by_type.get(t) or _by_subclass(t)
        if b is not None:
            return b
    eps = [ep for ep in _entry_points() if ep.name not in _loaded_eps]
    eps.sort(key=lambda ep: ep.name != root)  # the likeliest owner first
    for ep in eps:
        _load_entry_point(ep, strict=False)
        b = _by_type.get(t) or _by_subclass(t)
        if b is not None:
            return b
    if example is not None and not t.__module__.startswith("functrans."):
        # (functrans's own tracers carry __array_namespace__: never a library of their own)
        from .standard_backend import backend_for
        b = backend_for(t, example)
        # (not for a library that has a backend already: its other types, such as NumPy's
        # scalars of dtypes functrans lacks, stay refused with that backend's reasons)
        if b is not None and b.name not in _by_name and b.name not in _lazy_modules:
            return register(b)
    return _unsupported(t)


def _np_generic():
    import numpy
    return numpy.generic


def _by_subclass(t):
    for known, b in list(_by_type.items()):
        if issubclass(t, known):
            why = b.refused_subclass(t)
            if why:
                raise UnsupportedBackendError(why)
            _by_type[t] = b
            return b
    return None


def _unsupported(t):
    if getattr(t, "_typed_keys", False):  # functrans.random's key arrays
        raise UnsupportedBackendError(_key_refusal(_called_function()))
    if t.__module__ == "numpy" and issubclass(t, _np_generic()):
        raise UnsupportedBackendError(
            f"NumPy scalars of type numpy.{t.__qualname__} are not supported by functrans (it "
            f"has the Array API dtypes: bool, int8..int64, uint8..uint64, float32, float64, "
            f"complex64, complex128, and float16). Convert the value first (float(x), or "
            f"numpy.float64(x)).")
    name, what = _called_function(), f"{t.__module__}.{t.__qualname__}"
    raise UnsupportedBackendError(
        (f"Values of type {what} belong to no functrans backend. " if name == "this operation"
         else f"{name}() got a value of type {what}: values of that type belong to no "
              f"functrans backend. ")
        + f"Pass arrays of a supported library ({', '.join(_lazy_modules)}), or register one "
        f"(functrans.backends.register, or the entry-point group {ENTRY_POINT_GROUP!r}).")


def _key_refusal(name):
    return (f"{name} does not accept typed keys (dtype key<fry>): they have no arithmetic, "
            f"order, reductions or casts, only structural operations (reshaping, indexing, "
            f"joining, selecting, == and !=), as JAX's. functrans.random.key_data(keys) gives "
            f"their uint32 data.")


_PUBLIC_MODULES = ("functrans.numpy.", "functrans.lax.", "functrans.scipy.", "functrans.nn.",
                   "functrans.lax_ops")


def _closure_name(frame):
    """The name of the module-level function, made by a factory, that ``frame`` runs: the
    one of that code whose closure holds the frame's free variables."""
    code, local = frame.f_code, frame.f_locals
    # (the factory's module, else the namespace of the module the function was made for)
    public = sys.modules.get(".".join(p for p in frame.f_globals.get("__name__", "").split(".")
                                      if not p.startswith("_")))
    for n, g in [*frame.f_globals.items(), *(vars(public).items() if public else ())]:
        if getattr(g, "__code__", None) is code and g.__closure__ is not None and all(
                v in local and c.cell_contents is local[v]
                for v, c in zip(code.co_freevars, g.__closure__)):
            return getattr(g, "__name__", n)
    return None


def _called_function():
    """The public functrans function the caller called (for an error message): of the
    frames of functrans.numpy, .lax... on the stack, the outermost of those next to each
    other above the innermost one (so ``mean``, not the ``sum`` it calls)."""
    f, name = sys._getframe(2), None
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if (mod + ".").startswith(_PUBLIC_MODULES):
            fn = f.f_code.co_name
            if f.f_code.co_freevars:  # made by a factory (functrans.numpy's add...)
                fn = _closure_name(f) or "_"
            if not fn.startswith(("_", "<")):
                public = ".".join(p for p in mod.split(".") if not p.startswith("_"))
                name = f"{public.replace('lax_ops', 'lax')}.{fn}"
        elif name is not None or not (mod == "functrans" or mod.startswith("functrans.")):
            break
        f = f.f_back
    return name or "this operation"


# -- entry points ------------------------------------------------------------------------------

_loaded_eps: set[str] = set()


def _entry_points():
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _load_entry_point(ep, strict: bool):
    """Load one entry point: it names a Backend, a function returning one, or a module that
    registers its backend when imported."""
    _loaded_eps.add(ep.name)
    try:
        obj = ep.load()
        if not isinstance(obj, Backend) and callable(obj) and not isinstance(obj, type):
            obj = obj()
        if isinstance(obj, Backend):
            if obj.name != ep.name:
                raise UnsupportedBackendError(
                    f"entry point {ep.name!r} gave a backend named {obj.name!r}; the two "
                    f"names must agree")
            if _by_name.get(obj.name) is not obj:
                register(obj)
        elif ep.name not in _by_name:
            raise UnsupportedBackendError(
                f"entry point {ep.name!r} ({ep.value}) must name a functrans Backend, a "
                f"function returning one, or a module that registers one; got {obj!r}")
    except Exception as e:
        if strict:
            if isinstance(e, UnsupportedBackendError):
                raise
            raise UnsupportedBackendError(
                f"Loading backend {ep.name!r} from entry point {ep.value!r} failed: "
                f"{type(e).__name__}: {e}") from e
        warnings.warn(f"functrans: skipping backend entry point {ep.name!r} ({ep.value}): "
                      f"{type(e).__name__}: {e}", RuntimeWarning, stacklevel=3)


# -- mixing and the default backend ------------------------------------------------------------


def check_same_backend(b1: Backend, b2: Backend, what: str = "an operation"):
    if b1 is not b2:
        raise BackendMismatchError(
            f"{what} mixes arrays of backend {b1.name!r} and backend {b2.name!r}. functrans "
            f"never copies between libraries implicitly: convert one of them first (for "
            f"example {b1.name}'s asarray/from_dlpack on the other array).")


_default = contextvars.ContextVar("functrans.default_backend", default=None)


def default() -> Backend:
    """The backend used for Python scalars and creation functions without an array."""
    b = _default.get()
    return b if b is not None else _by_name.get("numpy") or get_backend("numpy")


class default_backend:
    """Set the backend used for Python-scalar inputs and creation functions.

    ``functrans.default_backend("torch")`` sets it for the current context (the thread or
    async task); ``with functrans.default_backend("array_api_strict"): ...`` sets it for a
    block and restores the previous one on exit. Arrays always keep their own backend.

    Args:
        backend: a backend name (``"numpy"``, ``"torch"``...) or a :class:`Backend`.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> with ft.default_backend("array_api_strict"):
        ...     type(ft.grad(fnp.sin)(0.0)).__module__
        'array_api_strict._array_object'
    """

    def __init__(self, backend):
        self.backend = backend if isinstance(backend, Backend) else get_backend(backend)
        self._token = _default.set(self.backend)

    def __enter__(self):
        return self.backend

    def __exit__(self, *exc):
        _default.reset(self._token)
        return False

    def __repr__(self):
        return f"default_backend({self.backend.name!r})"
