"""NumPy backend: the default, and the one used when every input is a Python scalar.

Extras: ``scatter_add`` with ``np.add.at``; the special functions from ``scipy.special``,
imported on first use (without SciPy, the generic versions of :mod:`.generic` are used),
except ``hyp2f1``: the generic version, nan where that has no accurate value (SciPy's is
wrong in places with no sign of it); ``gammainc``, ``gammaincc`` and their inverses take the
generic versions for the elements with a shape of 1e5 or more (SciPy's lose accuracy there).
"""

import functools
import math
import operator
import sys
import types

import array_api_compat.numpy as _xp

import numpy as np

from .. import dtypes as _dt
from . import Backend, _by_name, register
from ..errors import UnsupportedBackendError
from .standard_backend import complex_log1p

_NAMES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128")
_pairs = []
for _n in _NAMES:
    _pairs.append((np.dtype(_n), _dt.BY_NAME[_n]))
    _pairs.append((np.dtype(_n).type, _dt.BY_NAME[_n]))  # np.float64 the scalar type

# NumPy scalars (np.float64(1.0), the result of a full reduction) behave as 0-d arrays.
_types = [np.ndarray] + [np.dtype(n).type for n in _NAMES]


def _scatter_add(x, index, values, /, *, axis=0):
    out = np.array(x, copy=True)  # writable even when x is read-only
    axis = axis % out.ndim if out.ndim else axis
    index = tuple(index) if isinstance(index, (tuple, list)) else (index,)
    np.add.at(out, (slice(None),) * axis + tuple(np.asarray(i) for i in index), values)
    return out


# extra name -> name in scipy.special
_SCIPY = {"erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "lgamma": "gammaln",
          "digamma": "psi", "polygamma": "polygamma", "ndtri": "ndtri",
          "gammainc": "gammainc", "gammaincc": "gammaincc", "betainc": "betainc",
          "betaincc": "betaincc", "gammaincinv": "gammaincinv", "gammainccinv": "gammainccinv",
          "betaincinv": "betaincinv", "erfcx": "erfcx", "i0": "i0", "i0e": "i0e", "i1": "i1",
          "i1e": "i1e", "exp1": "exp1", "expi": "expi", "expn": "expn", "dawsn": "dawsn",
          "hurwitz_zeta": "zeta", "riemann_zeta": "zeta", "spence": "spence",
          "sici": "sici", "fresnel": "fresnel", "owens_t": "owens_t",
          "wofz": "wofz", "hyp1f1": "hyp1f1",
          "hyp2f1": "hyp2f1", "jv": "jv", "ive": "ive", "j0": "j0", "j1": "j1", "y0": "y0",
          "y1": "y1", "k0": "k0", "k0e": "k0e", "k1": "k1", "k1e": "k1e"}


def _eig(x):
    w, v = np.linalg.eig(x)
    c = np.result_type(x.dtype, np.complex64)
    return w.astype(c, copy=False), v.astype(c, copy=False)


def _scipy_solve_triangular():
    try:
        import scipy
        import scipy.linalg
    except ImportError:
        return None
    # SciPy solves stacks of matrices from 1.15 on; before, a stack takes the general solver.
    stacks = tuple(int(p) for p in scipy.__version__.split(".")[:2]) >= (1, 15)

    def solve_triangular(a, b, lower):
        if 0 in a.shape[:-2] or 0 in b.shape[:-2]:  # (SciPy refuses a stack of no matrices)
            shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:]
            return np.zeros(shape, np.result_type(a.dtype, b.dtype))
        if a.ndim > 2 and not stacks:
            return np.linalg.solve(a, b)
        return scipy.linalg.solve_triangular(a, b, lower=lower, check_finite=False)
    return solve_triangular


def _keep_dtype(fn, n_args):
    """SciPy may compute some functions in float64 (polygamma): give back x's dtype."""
    def call(*args):
        x = args[n_args - 1]
        out = fn(*args)
        dt = getattr(x, "dtype", None)
        return out.astype(dt, copy=False) if dt is not None and out.dtype != dt else out
    call.__name__ = getattr(fn, "__name__", "extra")
    return call


def _base_holders(view) -> int:
    return sys.getrefcount(view.base)


def _calibrate() -> int:
    owner = np.empty(2)
    view = owner[1:]
    del owner
    return _base_holders(view)


# What _base_holders reports when the view is the only holder of its base, measured once so
# that the comparison holds whatever the interpreter's own counting of temporaries.
_VIEW_ONLY = _calibrate()


def _is_traced(value):
    """Whether ``value`` is a tracer, or a short sequence holding one (a long one is left to
    NumPy, which refuses a tracer too, with a less specific message)."""
    from ..core import Tracer
    if isinstance(value, Tracer):
        return True
    return (isinstance(value, (list, tuple)) and len(value) <= 64
            and any(_is_traced(v) for v in value))


class AtArray(np.ndarray):
    """A NumPy array made by a ``functrans.numpy`` creation function (``zeros``, ``ones``,
    ``full``, ``arange``, ``array``...), and what NumPy computes from one: it has
    jax.numpy's ``.at`` (``fnp.zeros(3).at[0].set(x)``, the usual way JAX code builds an
    array), which NumPy's own arrays lack. Otherwise it is a NumPy array, printed as one;
    transforms hand back plain ``numpy.ndarray`` results."""

    @property
    def at(self):
        from ..array_methods import _AtHelper
        return _AtHelper(self)

    def __getitem__(self, key):
        # A traced index (JAX code: table[i] with i under vmap/grad/jit) is a gather of
        # functrans.numpy's, as on a jax.numpy array; NumPy's own indexing otherwise.
        if type(key) is not int and type(key) is not slice and _is_traced(key):
            from ..numpy._indexing import _getitem
            return _getitem(self.view(np.ndarray), key)
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        if _is_traced(value):
            from ..errors import DerivativeDroppedError
            raise DerivativeDroppedError(
                "y[idx] = value, with y a NumPy array and value being transformed: a NumPy "
                "array cannot hold a derivative. Write y = y.at[idx].set(value) (JAX's "
                "functional update, which y has), or start y from a traced value "
                "(y = functrans.numpy.asarray(x, copy=True)) and assign into that.")
        super().__setitem__(key, value)

    def __repr__(self):
        return repr(self.view(np.ndarray))

    def __str__(self):
        return str(self.view(np.ndarray))


def _in_place(name):
    # ``total += traced`` (autograd's ``loglik = 0.0; loglik += np.sum(...)`` once a term
    # came out of functrans.numpy as a 0-d AtArray): an array cannot hold a traced value, so
    # the operator steps aside and Python rebinds the name to ``total + traced``, as it does
    # for a NumPy scalar; otherwise NumPy's in-place operation.
    method = getattr(np.ndarray, name)

    def op(self, other):
        if _is_traced(other):
            return NotImplemented
        return method(self, other)
    op.__name__ = name
    return op


for _name in ("__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__",
              "__ipow__", "__imatmul__", "__iand__", "__ior__", "__ixor__", "__ilshift__",
              "__irshift__"):
    setattr(AtArray, _name, _in_place(_name))


def _foreign(other):
    """Whether ``other`` is a concrete array of another library (a torch tensor, a CuPy
    array...), which NumPy's operators and that library's both refuse with a bare TypeError."""
    from ..core import Tracer, is_concrete_array
    if isinstance(other, (np.ndarray, np.generic, Tracer)) or not hasattr(other, "shape"):
        return False
    return is_concrete_array(other)


_NATIVE_OPERANDS = frozenset((np.ndarray, AtArray, int, float, complex, bool, np.float64,
                              np.float32, np.int64, np.bool_))


def _binary_operator(name, fn_name, reflected):
    # An operator with another library's array goes to functrans.numpy's function, which
    # says what is wrong and what to do (BackendMismatchError), where the two libraries'
    # operators would give a bare TypeError (or, for ==, a silent False).
    # The foreign check comes first: NumPy's own method would convert a torch or CuPy
    # array to a NumPy one (a copy of it to the host) before giving up.
    method = getattr(np.ndarray, name)

    def op(self, other):
        if type(other) not in _NATIVE_OPERANDS and _foreign(other):
            from .. import numpy as fnp
            f = getattr(fnp, fn_name)
            return f(other, self) if reflected else f(self, other)
        return method(self, other)
    op.__name__ = name
    return op


for _name, _fn in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                   ("truediv", "divide"), ("floordiv", "floor_divide"), ("mod", "remainder"),
                   ("pow", "pow"), ("matmul", "matmul"), ("and", "bitwise_and"),
                   ("or", "bitwise_or"), ("xor", "bitwise_xor"),
                   ("lshift", "bitwise_left_shift"), ("rshift", "bitwise_right_shift")):
    setattr(AtArray, f"__{_name}__", _binary_operator(f"__{_name}__", _fn, False))
    setattr(AtArray, f"__r{_name}__", _binary_operator(f"__r{_name}__", _fn, True))


def _matmul_operator(name, reflected):
    # NumPy's @ gives two bfloat16 arrays a float32 product: functrans.numpy's matmul gives
    # them bfloat16 (computed in float32, rounded once), as jax.numpy's @ (put in place with
    # bfloat16: before, AtArray's @ is NumPy's, with no frame more)
    base = getattr(AtArray, name)

    def op(self, other):
        if self.dtype is _BF16 or getattr(other, "dtype", None) is _BF16:
            from .. import numpy as fnp
            return fnp.matmul(other, self) if reflected else fnp.matmul(self, other)
        return base(self, other)
    op.__name__ = name
    op.mends_bfloat16 = True
    return op


_BF16 = None  # ml_dtypes' bfloat16 once the backend has it (NumPyBackend.load_bfloat16)

for _name, _fn in (("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                   ("ge", "greater_equal"), ("eq", "equal"), ("ne", "not_equal")):
    setattr(AtArray, f"__{_name}__", _binary_operator(f"__{_name}__", _fn, False))
AtArray.__hash__ = None  # (as ndarray's: defining __eq__ would otherwise ask for one)


def with_at(x):
    """A plain NumPy array ``x`` as an :class:`AtArray` (a view); anything else as it is."""
    return x.view(AtArray) if type(x) is np.ndarray else x


def plain(x):
    """An :class:`AtArray` as a plain NumPy array (a view); anything else as it is."""
    return x.view(np.ndarray) if type(x) is AtArray else x


class NumPyBackend(Backend):
    orders_complex = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.devices = False  # the CPU only
        self._writers = {}

    # -- bfloat16, through ml_dtypes -------------------------------------------------------
    # NumPy has no bfloat16; the ml_dtypes package (JAX's) adds one as a NumPy dtype. Its
    # import costs about half a second, so it is not imported with functrans: bfloat16 is
    # added to this backend when a bfloat16 array, scalar or dtype arrives (from ml_dtypes,
    # imported by the user or by JAX) and when bfloat16 is asked for (fnp.ones(3,
    # dtype=fnp.bfloat16)), importing it then. Not before: the bfloat16-aware namespace
    # costs the other dtypes a frame on a few functions (where, clip, sums, matmul...), so a
    # process that never uses bfloat16 (JAX imported or not) keeps NumPy's own.

    def load_bfloat16(self, import_it=True) -> bool:
        """Add ml_dtypes' bfloat16 to this backend (once); whether it is there. Without
        ``import_it``, only where ml_dtypes is already imported."""
        if _dt.bfloat16 in self._to_native:
            return True
        if not import_it and "ml_dtypes" not in sys.modules:
            return False
        try:
            native = _dt.numpy_bfloat16()
        except TypeError:
            return False
        self.add_dtypes([(native, _dt.bfloat16), (native.type, _dt.bfloat16)], [native.type])
        global _BF16
        _BF16 = native
        # (what NumPy's float paths were before, for tests/conftest.py's
        # numpy_without_bfloat16: functrans's frame counts are measured without these)
        self._without_bfloat16 = (self.xp, dict(self.impls), AtArray.__matmul__,
                                  AtArray.__rmatmul__)
        self.xp = _bfloat16_namespace(self.xp, native)
        self.impls.update(_bfloat16_impls(native, self.impls))
        if not getattr(AtArray.__matmul__, "mends_bfloat16", False):
            AtArray.__matmul__ = _matmul_operator("__matmul__", False)
            AtArray.__rmatmul__ = _matmul_operator("__rmatmul__", True)
        self._extra_cache.clear()  # (the extras made before compute bfloat16 in float32 too)
        if _by_name.get(self.name) is self:
            register(self)  # (the caches keyed by array type and dtype id start over)
        return True

    def dtype(self, x):
        try:
            return self._to_dtype[x.dtype]
        except KeyError:
            if self.load_bfloat16(import_it=False) and x.dtype in self._to_dtype:
                return self._to_dtype[x.dtype]
            return super().dtype(x)

    def native_dtype(self, dtype):
        try:
            return super().native_dtype(dtype)
        except UnsupportedBackendError:
            if not (dtype is _dt.bfloat16 or _dt.as_dtype(dtype) is _dt.bfloat16):
                raise
            if not self.load_bfloat16():
                raise UnsupportedBackendError(_dt.NO_NUMPY_BFLOAT16) from None
            return self._to_native[_dt.bfloat16]

    def writer_into(self, name):
        # Only where the namespace's function is NumPy's ufunc itself (not a wrapper such
        # as ceil's, which keeps integers), so that writing with out= computes the same.
        # (Asked once per equation of every evaluation reusing memory: remembered by name.)
        try:
            return self._writers[name]
        except KeyError:
            pass
        if name == "concat":
            fn = np.concatenate
        else:
            fn = getattr(self.xp, name, None)
            fn = fn if isinstance(fn, np.ufunc) else None
        self._writers[name] = fn
        return fn

    def overwritable(self, x):
        # C order too: a kept array of another order, written with out=, would give later
        # reductions another summation order than NumPy's own result would.
        if type(x) is not np.ndarray:
            return False
        f = x.flags
        return f.owndata and f.writeable and f.c_contiguous

    def copy(self, x):
        # (np.array rather than x.copy(): an AtArray's copy is a plain array)
        return x if isinstance(x, np.generic) else np.array(x, order="C")

    def sole_owner(self, x):
        # A view keeps the array owning its memory as .base (NumPy collapses chains of
        # views); when this view is the base's only holder, the base dies with it.
        if _base_holders(x) != _VIEW_ONLY:  # counted before a name here holds the base
            return None
        base = x.base
        if type(base) is np.ndarray and base.flags.owndata and base.flags.writeable:
            return base
        return None

    def refused_subclass(self, t):
        # Subclasses whose operations mean something else than the ndarray's: taken as
        # plain arrays they would give silently different results.
        if issubclass(t, np.ma.MaskedArray):
            return ("functrans does not support NumPy masked arrays: their mask would be "
                    "ignored by some operations and not others. Fill the masked values "
                    "(x.filled(0)) or keep the mask as a boolean array and use fnp.where.")
        if issubclass(t, np.matrix):
            return ("functrans does not support np.matrix (its products and reductions "
                    "keep two axes): convert it with np.asarray(m).")
        return None

    def asarray(self, value, dtype=None, device=None):
        # NumPy's own asarray (array-api-compat's wrapper costs a microsecond per Python
        # scalar a transform takes in)
        if device is not None and device != "cpu":
            return super().asarray(value, dtype, device)  # the library's error
        return np.asarray(value, dtype=None if dtype is None else self.native_dtype(dtype))

    def as_array(self, x):
        # A reduction to 0-d gives a NumPy scalar; transforms return arrays, as JAX does.
        if type(x) is np.ndarray:
            return x
        return np.asarray(x)  # (NumPy scalars, and AtArray's data as a plain array)

    def device(self, x):
        return "cpu"

    def to_device(self, x, device):
        if device not in ("cpu", None):
            raise ValueError(f"NumPy arrays live on the CPU; got device {device!r}")
        return x

    def to_numpy(self, x):
        return np.asarray(x)

    def load_extra(self, name):
        if name == "solve_triangular":
            return _scipy_solve_triangular()
        if name not in _SCIPY:
            return None
        try:
            import scipy.special as sc
        except ImportError:
            return None
        fn = getattr(sc, _SCIPY[name])
        if name == "hyp2f1":
            return _checked_hyp2f1(self, fn)
        if name == "betaincinv":
            return _checked_betaincinv(self, fn)
        if name in ("betainc", "betaincc"):
            return _betainc_at_exact_pair(self, fn, name == "betaincc")
        if name == "erfc":
            return _erfc_with_tail(fn)
        if name in _PATCHED:
            return _patched(self, name, fn)
        if name in ("gammainc", "gammaincc", "gammaincinv", "gammainccinv"):
            return _gamma_large_shape(self, name, fn)
        return _keep_dtype(fn, 2) if name in ("polygamma", "expn") else fn


def _checked_hyp2f1(backend, scipy_hyp2f1):
    """2F1 by the generic version (:mod:`.special_generic`: nan where it cannot be
    accurate), as on the other libraries. SciPy's own is wrong in places with no sign of it
    (session 16, against mpmath: relative errors above 1e-10 at 23 % of a, b, c in
    (-30, 30), x in (-3, 1), up to 1e13), and also where the generic version has no value:
    6 of the 29 points of 4000 in that range where it gives nan, up to 1.5e-4 off (review
    s16b), so its value is not used there either (nan, not a silent wrong answer).
    ``scipy_hyp2f1`` is kept in the signature for the backend's look-up."""
    from .special_generic import hyp2f1 as generic

    def hyp2f1(a, b, c, x):
        with np.errstate(all="ignore"):
            return np.asarray(generic(backend, *(np.asarray(v) for v in (a, b, c, x))))
    return hyp2f1


def _checked_betaincinv(backend, scipy_betaincinv):
    """SciPy's betaincinv, and the generic version (:mod:`.generic`: Halley steps on log x)
    where SciPy's is nan inside the domain: it gives nan for a tiny y and moderate shapes
    (``betaincinv(3, 3, 1e-120)``, ``betaincinv(3, 100, 1e-300)``, true 4.64e-41 and
    1.80e-102; 601 of 87,120 grid points with a, b in [1e-8, 1e8], y down to 1e-315),
    so that beta.ppf, t.ppf and f.ppf were nan there."""
    from .generic import betaincinv as generic

    def betaincinv(a, b, y):
        out = scipy_betaincinv(a, b, y)
        with np.errstate(all="ignore"):
            bad = (np.isnan(out) & (a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b)
                   & (y > 0) & (y < 1))
        if not bad.any():
            return out
        a, b, y, out = (np.array(v, copy=True) if v is out else v
                        for v in np.broadcast_arrays(a, b, y, out))
        with np.errstate(all="ignore"):
            fixed = generic(backend, a[bad], b[bad], y[bad])
        out = np.array(out, copy=True)
        out[bad] = fixed
        return out
    return betaincinv


# (|log f|'' d^2 up to this: the density's logarithm linear over [x', x] to ~1e-12 of the shift)
_PAIR_CURVATURE = 2.0 ** -40
# (a up to this: beyond, SciPy's betainc errs by itself, ~1e-13 at a, b ~ 1e4 .. 1e7, as much
# at x' as at x: betainc(1e4, 1e6, x) 8e-15 off at x, 6e-14 at x'; betainc(1e8, 1e8, x)
# 6e-13 and 1.6e-12; the rounding of 1 - x no longer its main error)
_PAIR_A_MAX = 1000.0


def _betainc_at_exact_pair(backend, scipy_fn, complement):
    """SciPy's betainc (``complement``: betaincc) evaluated where ``1 - x`` is exact, at
    ``x' = 1 - fl(1 - x)``, plus the integral of the density over ``[x', x]``. SciPy forms
    ``1 - x`` itself, and below x = 1/2 that rounding (up to 2^-54) moves ``(1 - x)^b`` by
    ``b`` times it: at large ``b`` its betainc was up to 2.3e-10 relative off
    (``betainc(3, 1e7, 3.6156e-7)``, mpmath; 1.9e-12 at ``(3, 1e5, 3.6155e-5)``) and its
    betaincc 2.7e-13, while at ``x'`` (``1 - x'`` exact) both are within ~3e-14 for shapes
    0.01 .. 1e7 (a up to _PAIR_A_MAX). The integral: ``f(x') expm1(g d) / g`` (``d = x - x'``, exact; ``g`` the
    slope of log f at ``x'``), where ``log f`` is linear over the interval (a tiny ``x``,
    where ``x'`` is far from it or 0, keeps SciPy's value at ``x``); ``log f`` by betaln,
    or where betaln's rounding (~eps (a + b) log(a + b)) would show through the shift, by
    the generic deviance form (rare: the shift is mostly ~a d / x of the value)."""
    from scipy.special import betaln

    def one(a, b, x, y, d):
        # (one element, in Python floats: ~8 us where the array code took ~40)
        xe = 1.0 - y
        if not (xe > 0.0 and a > 0.0 and b > 0.0 and a <= _PAIR_A_MAX and b < math.inf
                and (abs(a - 1.0) / (xe * xe) + abs(b - 1.0) / (y * y)) * (d * d)
                <= _PAIR_CURVATURE):
            return scipy_fn(a, b, x)
        held = float(scipy_fn(a, b, xe))
        log_x, log_y = math.log(xe), math.log1p(-xe)
        terms = (a - 1.0) * log_x + (b - 1.0) * log_y
        gd = ((a - 1.0) / xe - (b - 1.0) / y) * d
        if abs(gd) >= 2.0 ** -26:
            stretch = math.expm1(gd) / gd
        else:
            stretch = 1.0 + 0.5 * gd
        log_f = terms - float(betaln(a, b))
        if not log_f < 700.0:
            return scipy_fn(a, b, x)
        shift = math.exp(log_f) * d * stretch
        err = 2.0 ** -50 * (abs(terms) + (a + b + 2.0) * (math.log(a + b + 2.0) + 1.0))
        if abs(shift) * err > 2.0 ** -56 * abs(held):
            from .generic import _beta_front_const, _log_beta_front
            ar, br = np.array([a]), np.array([b])
            front = float(_log_beta_front(np, ar, br, np.array([xe]), np.array([y]),
                                          np.array([log_x]), np.array([log_y]),
                                          _beta_front_const(backend, ar, br))[0])
            shift = math.exp(front + math.log(a) - log_x - log_y) * d * stretch
        return np.float64(held - shift if complement else held + shift)

    def betainc(a, b, x):
        x = x if type(x) is np.ndarray else np.asarray(x)
        if x.dtype != np.float64:
            return scipy_fn(a, b, x)
        y = 1.0 - x
        moved = (1.0 - y) != x  # (also nan; no subtraction of infinities: no warning)
        if not moved.any():  # (x above 1/2, and the round x's: ~1.5 us)
            return scipy_fn(a, b, x)
        with np.errstate(all="ignore"):
            d = x - (1.0 - y)  # (exact: x and 1 - y are within a factor 2, or 1 - y is 0)
        if x.ndim == 0 and np.ndim(a) == 0 and np.ndim(b) == 0:
            with np.errstate(all="ignore"):
                return one(float(a), float(b), float(x), float(y), float(d))
        a, b, x, y, d, moved = np.broadcast_arrays(a, b, x, y, d, moved)
        xe = 1.0 - y
        with np.errstate(all="ignore"):
            am1, bm1 = a - 1.0, b - 1.0
            take = moved & (xe > 0.0) & (a > 0.0) & (a <= _PAIR_A_MAX) & (b > 0.0) & (
                (np.abs(am1) / (xe * xe) + np.abs(bm1) / (y * y)) * (d * d) <= _PAIR_CURVATURE)
            if not take.any():
                return scipy_fn(a, b, x)
            idx = np.flatnonzero(take)
            at, bt, xt, yt, dt = (np.ravel(v)[idx] for v in (a, b, xe, y, d))
            out = np.array(scipy_fn(a, b, np.where(take, xe, x)), dtype=np.float64)
            log_xt, log_yt = np.log(xt), np.log1p(-xt)
            terms = (at - 1.0) * log_xt + (bt - 1.0) * log_yt
            log_f = terms - betaln(at, bt)
            gd = ((at - 1.0) / xt - (bt - 1.0) / yt) * dt
            # (the integral over the density's log-linear piece, relative to d f(x'))
            stretch = np.where(np.abs(gd) < 2.0 ** -26, 1.0 + 0.5 * gd, np.expm1(gd) / gd)
            shift = np.exp(log_f) * dt * stretch
            held = out.ravel()[idx]
            # (betaln's rounding, ~eps (a + b) log(a + b) + the terms', against the share of
            # the shift in the value)
            err = 2.0 ** -50 * (np.abs(terms) + (at + bt + 2.0) * (np.log(at + bt + 2.0) + 1.0))
            redo = np.flatnonzero(np.abs(shift) * err > 2.0 ** -56 * np.abs(held))
            if redo.size:
                from .generic import _beta_front_const, _log_beta_front
                ar, br, xr, yr, lxr, lyr = (v[redo] for v in (at, bt, xt, yt, log_xt, log_yt))
                front = _log_beta_front(np, ar, br, xr, yr, lxr, lyr,
                                        _beta_front_const(backend, ar, br))
                shift[redo] = np.exp(front + np.log(ar) - lxr - lyr) * dt[redo] * stretch[redo]
            new = held - shift if complement else held + shift
            fine = np.isfinite(new)
            flat = out.reshape(-1)
            flat[idx[fine]] = new[fine]
            if not fine.all():  # (an overflowed density: SciPy's value at x itself)
                bad = idx[~fine]
                flat[bad] = scipy_fn(*(np.ravel(v)[bad] for v in (a, b, x)))
        return out if out.ndim else out[()]
    betainc.__name__ = getattr(scipy_fn, "__name__", "betaincc" if complement else "betainc")
    return betainc


# -- direct implementations of the hottest primitives ------------------------------------------
# The same NumPy calls array-api-compat (or the generic impl) makes, minus its Python layers
# (np.sum's dispatch wrapper, the compat aliases): these run once per operation of every
# transform, so on small arrays those layers are a large part of the cost.
# NumPy's names they call are module globals here: NumPy's module defines __getattr__, so CPython
# never specializes an ``np.name`` load (~50 ns each, several per operation).
_ndarray, _multiply, _np_matmul, _tanh, _subtract = (np.ndarray, np.multiply, np.matmul,
                                                       np.tanh, np.subtract)
_sin, _cos, _max_reduce, _min_reduce = np.sin, np.cos, np.maximum.reduce, np.minimum.reduce


def _broadcast_in_dim(x, shape, dims):
    # A read-only stride-0 view made in one constructor call; np.broadcast_to (what the
    # generic impl uses) is several Python frames. NumPy scalars, and views whose memory's
    # owner exposes no buffer, take the generic path.
    if type(x) is _ndarray:
        xs, xst = x.shape, x.strides
        # (the view's strides once per operand's shape and strides and broadcast: a bias is
        # broadcast the same way at every step)
        key = (xs, xst, shape, dims)
        try:
            strides = _BROADCAST_STRIDES[key]
        except (KeyError, TypeError):  # (TypeError: shape or dims given as lists)
            strides = [0] * len(shape)
            for i, d in enumerate(dims):
                if xs[i] != 1:
                    strides[d] = xst[i]
            strides = tuple(strides)
            if len(_BROADCAST_STRIDES) < 4096 and type(shape) is tuple and type(dims) is tuple:
                _BROADCAST_STRIDES[key] = strides
        try:
            # (a view that is not contiguous, a transpose or a slice with a step, exposes no
            # buffer: the view is made on the array owning the memory instead, at the
            # operand's first element; np.broadcast_to takes several times as long)
            out = (_ndarray(shape, x.dtype, x, 0, strides) if x.flags.forc
                   else _strided_view(x, shape, strides))
        except ValueError:
            out = None
        if out is not None:
            out.flags.writeable = False
            return out
    expanded = [1] * len(shape)
    for i, d in enumerate(dims):
        expanded[d] = x.shape[i]
    return np.broadcast_to(np.reshape(x, tuple(expanded)), shape)


_BROADCAST_STRIDES: dict = {}  # (shape, strides, result's shape, dims) -> the view's strides


def _strided_view(x, shape, strides):
    """A view of ``x``'s memory with ``shape`` and ``strides`` from ``x``'s first element,
    made on the NumPy array that owns the memory; None where that array exposes no buffer
    (the caller then takes the general path)."""
    root = x.base
    while type(root) is _ndarray and type(root.base) is _ndarray:
        root = root.base
    if type(root) is not _ndarray:
        return None
    # Where x's strides are not negative and its elements span all of root's memory (a
    # transpose of root...), x starts where root does: a view lies inside its base's memory.
    # Else the offset is read from the two addresses.
    span = x.itemsize
    for n, st in zip(x.shape, x.strides):
        if st < 0 or n == 0:
            span = -1
            break
        span += (n - 1) * st
    if span == root.nbytes:
        offset = 0
    else:
        offset = x.ctypes.data - root.ctypes.data
    try:
        return _ndarray(shape, x.dtype, root, offset, strides)
    except (ValueError, TypeError):
        return None


def _matmul(x, y):
    # A product over one index is an outer product: NumPy's matmul runs k = 1 through its
    # gemm loop at about 1.3x the time of the broadcast multiply (the per-example gradients
    # of a vmapped matmul are stacks of these). The values are the same products (complex
    # ones may round differently in BLAS: left to it).
    if (x.shape[-1] == 1 and x.ndim >= 2 and y.ndim >= 2 and y.shape[-2] == 1
            and x.dtype.kind != "c" and y.dtype.kind != "c"):
        return _multiply(x, y)
    if x.ndim == 2 and y.ndim == 2 and type(x) is _ndarray and type(y) is _ndarray:
        # A large product into memory already in use, where a dead array of its shape is
        # kept (see _reused): the same BLAS call writing into a C-ordered array.
        n, m = x.shape[0], y.shape[1]
        if (n * m * x.itemsize >= _REUSE_BYTES and x.dtype is y.dtype
                and x.dtype.kind in "fc"):
            buf = _reused((n, m), x)
            if buf is not None:
                return _np_matmul(x, y, out=buf)
    return _np_matmul(x, y)


_REUSE_BYTES = 1 << 16  # (functrans.buffers.MIN_BYTES)


def _reused(shape, like):
    """A dead array of ``shape`` and ``like``'s dtype kept by functrans.buffers, or None."""
    global _take
    if _take is None:  # (functrans.buffers imports the backends: looked up on first use)
        from ..buffers import take as _take
    return _take(_ndarray, shape, backend.dtype(like))


_take = None


# -- a matrix product added into an array in one BLAS call -------------------------------------
# Reverse mode sums the cotangents that reach a matrix used at several steps (an RNN's weight,
# once per step): each is a product such as h_t^T d_t, computed into an array and then added to
# the sum, one more pass that reads both and writes one. BLAS's gemm computes C <- A B + C in
# one call (beta = 1), and for an inner dimension within one of its K blocks it forms each
# element's sum of products as the plain product does, then adds C once: the very bits of
# np.add(c, a @ b, out=c), in about half the time for a thin product (16 x 1024 by 16 x 1024
# into 1024 x 1024 float32: 0.47 against 0.94 ms). NumPy does not expose beta, so the gemm is
# NumPy's own BLAS (the OpenBLAS its wheels link, found through its extension module by its
# ILP64 names), called as NumPy calls it for the same operands; used only where a check on
# first use gives NumPy's bits for every layout and up to the largest inner dimension allowed,
# and never without that library (another BLAS, a non-CPython ctypes...).

_GEMM_MAX_K = 256   # the largest inner dimension fused (OpenBLAS's x86 K blocks: 256 and up)
_GEMM = None        # dtype -> the gemm function, filled on first use ({}: never fused)
_NO_TRANS, _TRANS, _ROW_MAJOR = 111, 112, 101


def _blas_layout(x, rows, cols):
    """(CBLAS transpose flag, leading dimension) with which NumPy's matmul hands ``x`` (rows x
    cols) to gemm, or (None, 0) where it would not (no unit stride, unaligned...)."""
    if not x.flags.aligned:
        return None, 0
    it = x.itemsize
    s0, s1 = x.strides
    if s1 == it and s0 % it == 0 and s0 >= cols * it:
        return _NO_TRANS, s0 // it
    if s0 == it and s1 % it == 0 and s1 >= rows * it:
        return _TRANS, s1 // it
    return None, 0


def matmul_add_into(c, a, b):
    """Add ``a @ b`` into ``c`` (2-D NumPy arrays of one real floating dtype; ``c`` C-ordered
    and owned by the caller, sharing no memory with ``a`` or ``b``) in one BLAS call, with the
    bits ``np.add(c, np.matmul(a, b), out=c)`` gives. Returns False, having written nothing,
    where that is not known to hold (see above): the caller then computes it that way."""
    gemm = _GEMM if _GEMM is not None else _load_gemm()
    return _gemm_add(gemm.get(c.dtype), c, a, b)


def _gemm_add(fn, c, a, b):
    if fn is None or a.ndim != 2 or b.ndim != 2 or c.ndim != 2:
        return False
    (m, k), n = a.shape, b.shape[1]
    if (not 2 <= k <= _GEMM_MAX_K or m < 2 or n < 2 or b.shape[0] != k or c.shape != (m, n)
            or a.dtype != c.dtype or b.dtype != c.dtype or not c.flags.c_contiguous
            or not c.flags.writeable or not c.flags.aligned):
        return False
    pa, pb = a.ctypes.data, b.ctypes.data
    if pa == pb or np.may_share_memory(c, a) or np.may_share_memory(c, b):
        return False  # (x^T x is NumPy's syrk, rounded its own way)
    ta, lda = _blas_layout(a, m, k)
    tb, ldb = _blas_layout(b, k, n)
    if ta is None or tb is None:
        return False
    fn(_ROW_MAJOR, ta, tb, m, n, k, 1.0, pa, lda, pb, ldb, 1.0, c.ctypes.data, n)
    return True


def _load_gemm():
    """NumPy's BLAS gemm by dtype where it is found and checked, else {} (see above)."""
    global _GEMM
    gemm = {}
    try:
        import ctypes
        try:
            from numpy._core import _multiarray_umath as ext
        except ImportError:  # (NumPy 1.x)
            from numpy.core import _multiarray_umath as ext
        lib = ctypes.CDLL(ext.__file__)
        found = {}
        for dtype, letter, real in ((np.float32, "s", ctypes.c_float),
                                    (np.float64, "d", ctypes.c_double)):
            for name in (f"scipy_cblas_{letter}gemm64_", f"cblas_{letter}gemm64_"):
                fn = getattr(lib, name, None)
                if fn is not None:
                    break
            else:
                continue
            i64, ptr, enum = ctypes.c_int64, ctypes.c_void_p, ctypes.c_int
            fn.restype = None
            fn.argtypes = [enum, enum, enum, i64, i64, i64, real, ptr, i64, ptr, i64, real,
                           ptr, i64]
            found[np.dtype(dtype)] = fn
        gemm = {dt: fn for dt, fn in found.items() if _gemm_agrees(fn, dt)}
    except Exception:  # (a probe: any failure means "never fused")
        gemm = {}
    _GEMM = gemm
    return gemm


def _gemm_agrees(fn, dtype):
    """Whether the fused call gives NumPy's bits for ``dtype``: operands in both layouts,
    inner dimensions from 2 to the largest allowed, awkward sizes for the kernels' edges, and
    one product large enough for BLAS's blocked path (some builds take small products
    through kernels of their own, which never split the inner dimension)."""
    rng = np.random.default_rng(0)
    for m, n, k in ((37, 29, 2), (37, 29, 3), (37, 29, 17), (37, 29, 100), (37, 29, _GEMM_MAX_K),
                    (160, 144, _GEMM_MAX_K)):
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        c0 = rng.standard_normal((m, n)).astype(dtype)
        for x in (a, np.ascontiguousarray(a.T).T):
            for y in (b, np.ascontiguousarray(b.T).T):
                want = c0 + np.matmul(x, y)
                c = c0.copy()
                if not _gemm_add(fn, c, x, y) or not np.array_equal(c, want):
                    return False
    return True


# -- sums of products on large arrays, block by block --------------------------------------------
# mul_add(a, b, c, d, ..., e) = a b + c d + ... + e (a pending sum of cotangents times
# residuals in the backward pass; forward mode's product rule). Written with operators, each
# product and each partial sum is a pass over whole arrays and most are a new array: a
# five-operand sum over 128 x 8192 float64 read and wrote about 80 MB (5.2 ms). On large arrays
# of one shape and dtype the same operations, in the same order, go block by block into one
# result: a block of the result and of one temporary stay in cache between the passes, and
# the operands are each read once (the bits of the operators' version: the same ufuncs on
# the same values, element by element).

_MUL_ADD_BLOCK_BYTES = 256 * 1024  # (as elementwise._BLOCK_BYTES, the graph evaluator's)


def _mul_add(*xs, coef=None):
    # The generic impl's operations (elementwise._mul_add_impl), large arrays block by block
    if coef is not None:
        return _mul_add_scaled_generic()(xs, coef)
    n = len(xs)
    if n >= 3 and type(xs[0]) is _ndarray and xs[0].nbytes >= _REUSE_BYTES:
        out = _mul_add_blocked(xs, n)
        if out is not None:
            return out
    if n == 4:
        return xs[0] * xs[1] + xs[2] * xs[3]
    if n == 3:
        return xs[0] * xs[1] + xs[2]
    out = xs[0] * xs[1]
    for i in range(2, n - 1, 2):
        out = out + xs[i] * xs[i + 1]
    return out + xs[-1] if n % 2 else out


def _mul_add_blocked(xs, n):
    """``_mul_add``'s value computed block by block along the first axis into one array, or
    None where the operands are not NumPy arrays of one shape and floating dtype beside
    Python numbers (then every intermediate has that dtype, as with the operators)."""
    shape, dtype = xs[0].shape, xs[0].dtype
    if dtype.kind not in "fc":
        return None
    for x in xs:
        t = type(x)
        if t is _ndarray:
            if x.shape != shape or x.dtype is not dtype:
                return None
        elif t is not float and t is not int:
            return None
    rows = shape[0]
    out = _reused(shape, xs[0])
    if out is None:
        out = _empty(shape, dtype)
    step = max(1, _MUL_ADD_BLOCK_BYTES // max(out.nbytes // rows, 1))
    tmp = _empty((min(step, rows),) + shape[1:], dtype) if n >= 4 else None
    mul, add = _multiply, _add
    for i in range(0, rows, step):
        j = min(i + step, rows)
        o = out[i:j]
        b = [x[i:j] if type(x) is _ndarray else x for x in xs]
        mul(b[0], b[1], out=o)
        for k in range(2, n - 1, 2):
            add(o, mul(b[k], b[k + 1], out=tmp[:j - i]), out=o)
        if n % 2:
            add(o, b[-1], out=o)
    return out


_add = np.add
_mul_add_scaled = None


def _mul_add_scaled_generic():
    global _mul_add_scaled
    if _mul_add_scaled is None:  # (the primitives import the backends: on first use)
        from ..primitives.elementwise import _mul_add_scaled
    return _mul_add_scaled


def _convert(x, dtype):
    if dtype.kind != "c" and backend.dtype(x).kind == "c":
        if dtype.kind == "b":
            return x != 0  # either part non-zero, as the generic impl and NumPy's cast
        x = x.real  # complex -> real keeps the real part, as the generic impl
    return x.astype(backend.native_dtype(dtype))


def _full_like(x, fill_value, dtype=None):
    native = backend.native_dtype(dtype)
    if (type(x) is _ndarray and (type(fill_value) is float or type(fill_value) is int
                                 and -_EXACT_INT <= fill_value <= _EXACT_INT)
            and x.flags.c_contiguous):
        # A float fill of a C-ordered array (a gradient's zeros, a seed of ones): np.full_like's
        # array (C order, as 'K' keeps it) and cast of the number, without its three Python
        # frames (its own and two dispatchers'), a third of its time on small arrays.
        out = _empty(x.shape, x.dtype if native is None else native)
        if out.dtype.kind in "fc":
            out.fill(fill_value)
            return out
    return np.full_like(x, fill_value, dtype=native)


_empty = np.empty
_EXACT_INT = 1 << 24  # (an int a float32 holds exactly: no rounding to tell the casts apart)


def _chooser_weights(x, out, axes):
    try:  # (once per shape and axes: a max is taken at every step)
        kept = _KEPT_SHAPES[x.shape, axes]
    except (KeyError, TypeError):  # (TypeError: axes given as a list)
        kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
        if len(_KEPT_SHAPES) < 4096 and type(axes) is tuple:
            _KEPT_SHAPES[x.shape, axes] = kept
    hit = x == out.reshape(kept)
    mask = hit.astype(x.dtype)
    # Without ties each slice attains its extreme exactly once (a NaN extreme nowhere): the
    # weights are then the mask itself, which is what mask / 1 is to the bit. Counting all
    # matches at once skips the reduction along the axes (slow for short axes) and the
    # division. (The matches are counted on the booleans: np.count_nonzero is a tenth of
    # the time of a sum of the float mask. A NaN extreme, attained nowhere, takes the
    # general path, which is right for any values; it is found by out != out, not by a sum
    # of the extremes, which warned for infinities of both signs, inf + -inf, and cost more.)
    if _count_nonzero(hit) == out.size and not _count_nonzero(out != out):
        return mask
    return mask / np.maximum(_add_reduce(mask, axis=axes, keepdims=True), 1)  # (NaN: 0)


_add_reduce = np.add.reduce
try:  # (NumPy's C function itself: np.count_nonzero of a whole array calls it, two frames on)
    from numpy._core.multiarray import count_nonzero as _count_nonzero
except ImportError:
    _count_nonzero = np.count_nonzero
_KEPT_SHAPES: dict = {}  # (shape, axes) -> the shape with those axes of length 1


_REAL_SCALARS = frozenset((np.float64, np.float32, np.float16))


def _tanh_slope(x, factor):
    # The generic impl's values (tanh, 1 - y*y, -2y); 1 - y*y is computed into y*y's array
    # rather than into a second temporary the size of x.
    if type(x) is _ndarray and x.nbytes >= _REUSE_BYTES and x.flags.c_contiguous:
        y = _reused(x.shape, x)
        y = _tanh(x) if y is None else _tanh(x, out=y)
        s = _reused(x.shape, x)
        s = _multiply(y, y) if s is None else _multiply(y, y, out=s)
    else:
        y = _tanh(x)
        # (a real NumPy scalar, from a 0-d x: its own * rounds as the ufunc does, at a tenth
        # of the ufunc call's cost; complex scalars' * does not round as the ufunc does, and
        # an array, subclasses included, goes through the ufunc)
        s = y * y if type(y) in _REAL_SCALARS else _multiply(y, y)
    if type(s) is _ndarray:
        _subtract(1.0, s, out=s)
    else:  # a NumPy scalar
        s = 1.0 - s
    return (y, s, y * -2.0) if factor else (y, s)


def _tensordot(x, y, a1, a2, perm=None):
    # np.tensordot's own method (one 2-d product of transposed, reshaped operands) without
    # its argument checks, which the primitive's callers have made; ``perm``: the result's
    # axes permuted (a view)
    p1, m1, p2, m2, shape = _tensordot_plan(x.shape, y.shape, a1, a2)
    if m1[1] == 0:  # nothing contracted over an empty axis: zeros
        out = np.zeros(shape, np.result_type(x.dtype, y.dtype))
        return out if perm is None else out.transpose(perm)
    if p1 is not None:
        x = x.transpose(p1)
    if p2 is not None:
        y = y.transpose(p2)
    out = np.dot(x.reshape(m1), y.reshape(m2)).reshape(shape)
    return out if perm is None else out.transpose(perm)


@functools.lru_cache(maxsize=1024)
def _tensordot_plan(xs, ys, a1, a2):
    """The permutations (None where none is needed), the 2-d shapes and the result's shape
    of a contraction, worked out once per shapes and axes."""
    f1 = [i for i in range(len(xs)) if i not in a1]
    f2 = [j for j in range(len(ys)) if j not in a2]
    k = math.prod(xs[i] for i in a1)
    p1, p2 = f1 + list(a1), list(a2) + f2
    return (None if p1 == sorted(p1) else tuple(p1), (math.prod(xs[i] for i in f1), k),
            None if p2 == sorted(p2) else tuple(p2), (k, math.prod(ys[j] for j in f2)),
            tuple([xs[i] for i in f1] + [ys[j] for j in f2]))


def _slogdet_inv(x):
    # The generic impl's values where every matrix is invertible (x^-1, scale 1), without
    # its Array API layers (a third of jit(hessian(slogdet)) on a 3x3); NumPy's inv refuses a
    # singular matrix, which the generic impl then takes apart matrix by matrix. (Half
    # precision goes there too, to be refused by name.)
    if type(x) is _ndarray and x.dtype.kind in "fc" and x.dtype.itemsize >= 4:
        try:
            return [_inv(x), np.ones(x.shape[:-2], x.dtype)]
        except np.linalg.LinAlgError:
            pass
    global _slogdet_inv_generic
    if _slogdet_inv_generic is None:  # (the primitives import the backends: on first use)
        from ..core import registry
        _slogdet_inv_generic = functools.partial(registry["slogdet_inv"].impl, backend)
    return _slogdet_inv_generic(x)


_inv = np.linalg.inv
_slogdet_inv_generic = None


# -- select (where) ------------------------------------------------------------------------------
# NumPy's where (2.4) copies each element after a branch on its condition: ~0.6 ns an element
# where the branch predictor follows the condition (constant, or in runs), ~3.5 ns where it
# cannot (fresh random conditions; a timeit loop on one condition of up to ~64K elements hides
# it, the predictor learning it). Special functions select on data-dependent conditions
# (expit's x >= 0 on data of both signs). Selecting the bits instead, ((x1 ^ x2) & mask) ^ x2
# in unsigned integers of the operands' width with mask all ones or all zeros, costs three
# passes and no branch: for 1e5 fresh random conditions 5-7 times faster for 4-byte types,
# 3.5 times for 8-byte ones (2 at 1e6, from memory traffic), but 1.6 times slower than a
# predictable where for 8-byte types. So: 1-, 2- and 4-byte types from _SELECT_MIN elements
# on (never slower there), 8-byte ones from _SELECT_MIN_8 where a sample of the condition
# flips often (a 1 KB sample, ~1.5 us: 5-10 % of a predictable where of 32K-64K elements).
# Same bits as np.where (NaN payloads, -0.0); operands of one dtype (or a Python float
# beside a real floating array: NEP 50, the float in the array's dtype) and each of the
# condition's shape or 0-d; anything else np.where.
# It is the where of the backend's namespace (a copy of array-api-compat's), so the select
# primitive's and the generic functions' (hyp2f1, gammainc's large shapes...) alike.

_SELECT_MIN, _SELECT_MIN_8 = 1 << 14, 1 << 15
_SELECT_SAMPLE = 1024  # (bytes of the condition, 128 words of 8)
_UINT_OF_SIZE = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_BOOL = np.dtype(bool)
_negative, _bitwise_and, _bitwise_xor = np.negative, np.bitwise_and, np.bitwise_xor


def _where(condition, x1, x2, /):
    """The backend namespace's where (so the select primitive's, and that of every generic
    function on NumPy arrays): np.where's values, by _bit_select where that is faster."""
    if type(condition) is _ndarray and condition.size >= _SELECT_MIN:
        out = _bit_select(condition, x1, x2)
        if out is not None:
            return out
    return _np_where(condition, x1, x2)


_np_where = np.where
where = _where   # (for the plain-NumPy forms of functrans.scipy.special)


def _with_where(xp):
    """array-api-compat's NumPy namespace (a copy) with _where for its where."""
    ns = types.ModuleType(xp.__name__, xp.__doc__)
    ns.__dict__.update(vars(xp))  # (its __array_api_version__ too)
    ns.where = _where
    return ns


def _bit_select(c, x1, x2):
    """np.where(c, x1, x2) by its bits (see above), or None where that is not the way."""
    if c.dtype is not _BOOL or not c.flags.c_contiguous:
        return None
    shape = c.shape
    if type(x1) is _ndarray:
        dt = x1.dtype
        if type(x2) is _ndarray:
            if x2.dtype is not dt or x2.shape != shape and x2.ndim:
                return None
        elif type(x2) is not float or dt.kind != "f":
            return None
        if x1.shape != shape and x1.ndim:
            return None
    elif type(x1) is float and type(x2) is _ndarray:
        dt = x2.dtype
        if dt.kind != "f" or x2.shape != shape and x2.ndim:
            return None
    else:
        return None
    if not (dt.kind in "biufc" and dt.isnative or dt is _BF16):
        return None
    size = dt.itemsize
    if size == 8:
        if c.size < _SELECT_MIN_8 or _flips_rarely(c):
            return None
    elif size > 8:  # (complex128, long double: np.where)
        return None
    if type(x1) is float:  # (NEP 50: the Python float in the array's dtype)
        x1 = np.array(x1).astype(dt)
    elif type(x2) is float:
        x2 = np.array(x2).astype(dt)
    u = _UINT_OF_SIZE[size]
    mask = _negative(c, dtype=np.int8)  # (-1 where true: all ones once cast to u)
    b2 = x2.view(u)
    out = _bitwise_xor(x1.view(u), b2)
    if out.shape == shape:
        _bitwise_and(out, mask, out=out, dtype=u, casting="unsafe")
    else:  # (both operands 0-d)
        out = _bitwise_and(out, mask, dtype=u, casting="unsafe")
    _bitwise_xor(out, b2, out=out)
    return out.view(dt)


def _flips_rarely(c):
    """Whether the condition runs in long stretches of one value, judged from the 8-byte
    words of a sample of it in its middle: where fewer than half of them differ from the
    word before (an independent condition true with probability p: p ~ 0.04, flipping at
    about every 13th element, near where np.where and _bit_select cost the same for
    8-byte types)."""
    flat = c if c.ndim == 1 else c.reshape(-1)
    k = (flat.size >> 1) & -8
    words = flat[k:k + _SELECT_SAMPLE].view(np.uint64)
    return _count_nonzero(words[1:] != words[:-1]) < _SELECT_SAMPLE // 16


_IMPLS = {
    "matmul": _matmul,
    "tensordot": _tensordot,
    "reduce_sum": lambda x, axes, keepdims=False: _add_reduce(x, axis=axes, dtype=x.dtype,
                                                              keepdims=keepdims),
    "reduce_max": lambda x, axes, keepdims=False: _max_reduce(x, axis=axes, keepdims=keepdims),
    "reduce_min": lambda x, axes, keepdims=False: _min_reduce(x, axis=axes, keepdims=keepdims),
    "reshape": lambda x, shape: x.reshape(shape),
    "transpose": lambda x, perm: x.transpose(perm),
    "broadcast_in_dim": _broadcast_in_dim,
    "convert_element_type": _convert,
    "full_like": _full_like,
    "chooser_weights": _chooser_weights,
    "tanh_slope": _tanh_slope,
    "mul_add": _mul_add,
    "sin_cos": lambda x: (_sin(x), _cos(x)),  # (the generic one's, without its frame)
    "slogdet_inv": _slogdet_inv,
    "log1p": complex_log1p(_xp),  # (NumPy's complex log1p is log(1 + z): 0 for 1e-20j)
}

def _scalar_operator(op, ufunc):
    # A real NumPy scalar's own operator beside one of its type or a Python bool, int or
    # float rounds as the ufunc does (the same IEEE operation in the operands' dtype, NEP 50's
    # promotion, the same floating-point error state) at about a tenth of a ufunc call's
    # cost: 0.05 against 0.6 us a product, which nested grads of scalar code pay per
    # operation below their first level (W7). A real Python number may come first (the
    # evaluator's look-up by the second operand: 2 * x), where the scalar's reflected
    # operator runs; a Python complex comes second only, and goes through the ufunc: NumPy's
    # complex scalar arithmetic differs from its ufunc's at infinities and in the signs of
    # zeros.
    # Of two NaN operands the ufunc returns the first (its sign and payload); the scalars'
    # compiled x + y and x * y may return the second (float64 and float32), so two NaNs go
    # through the ufunc too (a NaN result is rare; the test of it costs ~20 ns, isnan of a
    # float64 being a float's).
    def fn(x, y):
        if type(y) is complex:
            return ufunc(x, y)
        out = op(x, y)
        if _isnan(out) and _isnan(x) and _isnan(y):  # (NaN operands raise no warning)
            return ufunc(x, y)
        return out
    return fn


_isnan = math.isnan


# (checked against the ufuncs on every pair of edge and random values of each type, Python
# ints past float16's and float64's ranges included, under each np.errstate setting:
# tests/test_s55_lead.py, tests/test_s56_perf56.py.) Division too (0.04 against 0.67 us);
# negation is the operator itself (0.02 against 0.2 us: a sign flip, nan's included). Not
# the math module's functions for the unary ufuncs on scalars (exp, log, sqrt...): NumPy's
# float64 ones may be its own SIMD code, whose bits depend on the processor, and a scalar
# call of them costs 0.13-0.17 us, about what wrapping math's result in the type would.
NumPyBackend.type_impls = {
    name: dict.fromkeys(_REAL_SCALARS, _scalar_operator(op, ufunc))
    for name, op, ufunc in (("mul", operator.mul, np.multiply), ("add", operator.add, np.add),
                            ("sub", operator.sub, np.subtract),
                            ("div", operator.truediv, np.divide))}
NumPyBackend.type_impls["neg"] = dict.fromkeys(_REAL_SCALARS, operator.neg)

backend = register(NumPyBackend("numpy", _with_where(_xp), _types + [AtArray], _pairs,
                                extras={"scatter_add": _scatter_add, "eig": _eig},
                                impls=_IMPLS))


def _expi_overflow(backend, x, out):
    # SciPy's expi overflows from x = 709.8 (e^x) where Ei(x) ~ e^x / x is finite up to 716.6
    if not (out == np.inf).any():
        return None
    from .special_generic import expi
    return (out == np.inf) & (x < 717.0), lambda xb: expi(backend, xb)


def _bessel_far(name):
    # SciPy's J0, J1, Y0, Y1 take the phase x - pi/4 in floating point: relative errors of
    # about x eps (1e-12 at 1e5, 1e-6 at 1e10, every digit wrong at 1e20: j0(1e20) 6.1e-11,
    # true 6.7e-12); the generic ones reduce x exactly. Used from |x| = 1000 (SciPy's there
    # about 2e-13 relative; the generic ones cost ~40 times SciPy's)
    def check(backend, x, out):
        if not x.size or (x.max() < 1000.0 and x.min() > -1000.0):  # (nan: the mask below)
            return None
        from . import special_generic
        fn = getattr(special_generic, name)
        return (np.abs(x) >= 1000.0) & np.isfinite(x), lambda xb: fn(backend, xb)
    return check


# SciPy's jv (AMOS) is about 1e-16 of the envelope sqrt(2 / (pi |z|)) off up to |z| = 2e15 and
# wrong beyond (from about 2^52: jv(0, 5e15) 0.05 envelopes off, jv(1, 1e17) 1.2, every order
# the same value at 1e300; mpmath): the generic one there (Hankel's expansion, the phase of z
# reduced exactly; for |v| > 2000 only where that converges, nan elsewhere, not a wrong value)
_JV_FAR = 1e15


def _jv_far(backend, v, z, out):
    if not z.size or (z.max() < _JV_FAR and z.min() > -_JV_FAR):   # (nan: the mask below)
        return None
    from .special_generic import jv
    bad = (np.abs(z) >= _JV_FAR) & np.isfinite(z) & np.isfinite(v)
    return bad, lambda vb, zb: jv(backend, vb, zb)


def _hurwitz_huge_s(backend, s, q, out):
    # SciPy's zeta(s, q) is nan for s past about 1e14 at q > 1 (its value there: q^-s, 0)
    if not np.isnan(out).any():
        return None
    from .special_generic import zeta
    bad = np.isnan(out) & (s > 1.0) & (q > 0.0) & ~np.isnan(s) & ~np.isnan(q)
    return bad, lambda sb, qb: zeta(backend, sb, qb)


def _lgamma_ends(backend, x, out):
    # SciPy's gammaln is inf at nonzero |x| below about 5.5e-309 (true -log|x|: 744.44 at
    # 5e-324) and -inf at -inf, where C99's lgamma, the other backends and JAX give +inf
    if not np.isinf(out).any():
        return None
    bad = np.isinf(out) & ((x == -np.inf) | ((x != 0.0) & (np.abs(x) < 1e-300)))
    return bad, lambda xb: np.where(xb == -np.inf, np.inf, -np.log(np.abs(xb)))


# erfc's tail from here: erfcx(x) exp(-x^2) with x^2 exact (see _erfc_with_tail)
ERFC_TAIL = 3.5


def _erfc_with_tail(scipy_erfc):
    """SciPy's erfc, and for float64 x >= 3.5 erfcx(x) exp(-x^2) with x^2 exact.

    SciPy's erfc multiplies by exp(-x^2) of the rounded x^2: eps x^2 relative off (19 ulp at
    4, 60 at 8, 500 at 26), and is 0 from x = 26.64 (x^2 past the largest exponent) where
    erfc is subnormal up to 27.23 (erfc(27) = 5.237e-319). From 3.5 (below, SciPy's is
    within 11 ulp) SciPy's erfcx is within 3 ulp, and the product within about 4. One max()
    of x is all the rest pays (float32: computed in double by SciPy, far within its ulp)."""
    from scipy.special import erfcx
    from .exact_square import exp_c_square_numpy

    def erfc(x):
        out = scipy_erfc(x)
        if getattr(x, "dtype", None) != np.float64:
            return out
        if not isinstance(x, np.ndarray) or not x.ndim:   # (0-d: SciPy gives a scalar)
            return erfc(np.reshape(x, 1))[0] if x >= ERFC_TAIL else out
        if x.max(initial=-np.inf) < ERFC_TAIL:   # (a nan maximum: the mask below)
            return out
        # (by flat indices: x[tail] and out[tail] = ... branch on each element, 3-4 times
        # the cost of nonzero + take / put on an unpredictable mask; take and put read and
        # write in C order, whatever the layouts)
        tail = (x >= ERFC_TAIL).reshape(-1).nonzero()[0]
        xt = x.take(tail)
        # (exp(-x^2) is 0 from 27.3: clamped at 64 before the square, which overflowed
        # with a warning from 1.3e154, erfc(1e300); exp_c_square_numpy's own clamp the same)
        out.put(tail, erfcx(xt) * exp_c_square_numpy(np.minimum(xt, 64.0), -1.0))
        return out
    erfc.__name__ = "erfc"
    erfc.below_tail = scipy_erfc   # (for arguments known to lie below ERFC_TAIL: the ndtr impl)
    from scipy.special import ndtr
    erfc.ndtr = ndtr   # (SciPy's erfc(-x / sqrt 2) / 2, the same values in one pass: the ndtr
    return erfc        # impl below its band)


def _bessel_i_overflow(name):
    # SciPy's i0 and i1 (e^|x| times a series) overflow from |x| = 709.78 where I(x) ~
    # e^|x| / sqrt(2 pi |x|) is finite up to 713.98 (i0(710) = 3.345e306)
    def check(backend, x, out):
        if not np.isinf(out).any():
            return None
        from . import special_generic
        fn = getattr(special_generic, name)
        return np.isinf(out) & (np.abs(x) < 714.0), lambda xb: fn(backend, xb)
    return check


def _bessel_k_at_tiny(name):
    # SciPy's K0 and K1 (scaled or not) are inf and nan at x = 5e-324 (x / 2 is 0), where
    # K0 = 744.556 and K1 = 1/x overflows: the generic ones there
    def check(backend, x, out):
        if np.isfinite(np.add.reduce(out, axis=None)):
            return None
        from . import special_generic
        fn = getattr(special_generic, name)
        bad = ~np.isfinite(out) & (x > 0.0) & (x < 1e-300)
        return bad, lambda xb: fn(backend, xb)
    return check


def _digamma_near_poles(backend, x, out):
    # SciPy's psi within d of a negative integer is about 1.5e-16/d off relative (d = 1e-8:
    # 1.5e-8; psi(-1 + 2**-52) 31 %): there the reflection psi(1 - x) - pi / tan(pi d) with
    # d = x - round(x) exact, about 2e-16
    if not (x < 0.0).any():
        return None
    import scipy.special as sc
    # (-inf: left out before the subtraction, whose inf - inf warned; SciPy is silent)
    d = np.subtract(x, np.round(x), out=np.zeros_like(x), where=np.isfinite(x))
    np.abs(d, out=d)

    def reflected(xb):
        return sc.psi(1.0 - xb) - math.pi / np.tan(math.pi * (xb - np.round(xb)))
    return (x < 0.0) & (d < 0.0625) & (d > 0.0), reflected


_GAMMA_LARGE_SHAPE = 1e5


def _gamma_large_shape(backend, name, scipy_fn):
    """SciPy's function, and the generic one for the elements with a >= 1e5.

    SciPy 1.17's gammainc (so gammaincc near 1) loses accuracy below the centre for shapes
    of about 1e6 and more: gammainc(1e6, 992000) 1.1e-8 relative off, gammainc(1e8,
    1e8 - 8e4) 19 %, gammainc(1e10, 1e10 - 1e6) 82 % (against a 40-digit series); its
    inverses follow (gammaincinv(1e6, 1e-12) 1.1e-11 off in x). The generic ones (Temme's
    expansion there) are about 1e-14. From a = 1e5 (SciPy's there about 1e-13, as the
    generic ones). Its own wrapper, not ``_patched``: one max() of ``a`` is all that
    ordinary shapes pay (``_patched``'s checks cost twice that)."""
    from . import generic
    generic_fn = getattr(generic, name)
    inverse = name.endswith("inv")

    def fn(a, x):
        out = scipy_fn(a, x)
        av = a if type(a) is np.ndarray else np.asarray(a)
        if av.dtype.kind != "f" or not av.size or not av.max() >= _GAMMA_LARGE_SHAPE:
            return out  # (a nan maximum: nothing to redo, nan either way)
        xv = x if type(x) is np.ndarray else np.asarray(x)
        if xv.dtype.kind != "f" or xv.dtype == np.float16:
            return out
        with np.errstate(all="ignore"):
            bad = (av >= _GAMMA_LARGE_SHAPE) & np.isfinite(av) & (xv > 0.0) & np.isfinite(xv)
            if inverse:
                bad &= xv < 1.0
            if not bad.any():
                return out
            av, xv, ob = np.broadcast_arrays(av, xv, out)
            out = np.array(ob, copy=True)
            out[bad] = generic_fn(backend, np.ascontiguousarray(av[bad]),
                                  np.ascontiguousarray(xv[bad]))
        return out
    fn.__name__ = getattr(scipy_fn, "__name__", name)
    return fn


def _ive_far(backend, v, x, out):
    # SciPy's ive (AMOS) is nan for |x| or |v| beyond about 1.07e9 (2**31 / 2: its argument
    # limit), where e^-|x| I_v(x) is finite (ive(0, 3e9) = 7.28e-6, ive(0, 1e300) = 3.99e-151,
    # mpmath's), and so iv (ive e^|x|) was nan where it is inf: the generic one there
    if not np.isnan(np.add.reduce(out, axis=None)):
        return None
    from .special_generic import ive
    bad = (np.isnan(out) & np.isfinite(v) & np.isfinite(x)
           & ((np.abs(x) > 1e9) | (np.abs(v) > 1e9)) & ((x >= 0.0) | (v == np.floor(v))))
    return bad, lambda vb, xb: ive(backend, vb, xb)


_PATCHED = {"expi": _expi_overflow, "ive": _ive_far, "digamma": _digamma_near_poles, "lgamma": _lgamma_ends, 
            "i0": _bessel_i_overflow("i0"), "i1": _bessel_i_overflow("i1"),
            "j0": _bessel_far("j0"), "j1": _bessel_far("j1"), "y0": _bessel_far("y0"),
            "y1": _bessel_far("y1"), "hurwitz_zeta": _hurwitz_huge_s, "jv": _jv_far}
_PATCHED.update({name: _bessel_k_at_tiny(name) for name in ("k0", "k0e", "k1", "k1e")})



def _patched(backend, name, scipy_fn):
    """SciPy's function, and another computation where SciPy's is known to be wrong:
    ``_PATCHED[name](backend, *args, out)`` gives None (one quick look: nothing to redo) or
    the mask of those elements and the function for them."""
    check = _PATCHED[name]

    def fn(*args):
        out = scipy_fn(*args)
        xs = [a if type(a) is np.ndarray else np.asarray(a) for a in args]
        if not all(a.dtype.kind == "f" and a.dtype != np.float16 for a in xs):
            return out
        found = check(backend, *xs, out)
        if found is None:
            return out
        with np.errstate(all="ignore"):
            bad, other = found
            if not bad.any():
                return out
            *xs, ob = np.broadcast_arrays(*xs, out)
            out = np.array(ob, copy=True)
            out[bad] = other(*(np.ascontiguousarray(a[bad]) for a in xs))
        return out
    fn.__name__ = getattr(scipy_fn, "__name__", name)
    return fn


# -- bfloat16 (ml_dtypes') -----------------------------------------------------------------------
# NumPy computes ml_dtypes' bfloat16 through the package's own ufunc loops (float32 inside,
# rounded once, as JAX does), but elsewhere it is not JAX's bfloat16 (numpy 2.4, ml_dtypes
# 0.7): matmul and clip give float32, where(c, 0.0, x) float32 (where(c, x, 0.0) bfloat16),
# einsum refuses it, isdtype raises on it, and sums, products and cumulative sums accumulate
# in bfloat16 (10^4 uniforms in [0, 1) sum to 256: each addition rounds to 8 bits, the sum
# stalls). Once bfloat16 is loaded the backend's namespace is a copy of array-api-compat's
# with these functions mended: products computed in float32 and rounded once (as JAX's dot
# of bfloat16 operands on the CPU, and as ml_dtypes' own np.dot, in a fifth of its time),
# accumulations in float32 rounded once (JAX's), and other results in bfloat16 where
# functrans's promotion says so. None of this is in place (nor costs anything) before
# bfloat16 is used.


def _bfloat16_namespace(xp, bf16):
    if getattr(xp, "_bfloat16", None) is bf16:
        return xp
    f32 = np.dtype(np.float32)
    ns = types.ModuleType(xp.__name__, xp.__doc__)
    ns.__dict__.update(vars(xp))  # (its __array_api_version__ too)
    ns._bfloat16 = bf16

    def is_bf16(x):
        return getattr(x, "dtype", None) is bf16

    def back(out, *operands):
        # NumPy's float32 result from bfloat16 operands (none float32): bfloat16, as
        # functrans's promotion gives it
        if getattr(out, "dtype", None) is f32 and any(map(is_bf16, operands)) and not any(
                getattr(a, "dtype", None) is f32 for a in operands):
            return out.astype(bf16)
        return out

    np_isdtype, np_where, matmul, clip, tensordot = (xp.isdtype, xp.where, xp.matmul, xp.clip,
                                                     xp.tensordot)

    def isdtype(dtype, kind):
        if dtype is not bf16 and not (isinstance(kind, tuple) and bf16 in kind):
            return np_isdtype(dtype, kind) if kind is not bf16 else False
        if isinstance(kind, tuple):
            return any(isdtype(dtype, k) for k in kind)
        if kind is bf16 or kind in ("real floating", "numeric"):
            return dtype is bf16
        if isinstance(kind, str):
            return False
        return np_isdtype(dtype, kind)

    def where(condition, x1, x2, /):
        return back(np_where(condition, x1, x2), x1, x2)

    def in_float32(fn):
        def call(x1, x2, /, **kw):
            if is_bf16(x1) and is_bf16(x2):
                return fn(x1.astype(f32), x2.astype(f32), **kw).astype(bf16)
            return back(fn(x1, x2, **kw), x1, x2)
        call.__name__ = fn.__name__
        return call

    def clip_(x, /, min=None, max=None, **kw):
        return back(clip(x, min, max, **kw), x)

    def einsum(subscripts, *operands, **kw):
        if any(map(is_bf16, operands)):
            out = np.einsum(subscripts, *(o.astype(f32) if is_bf16(o) else o
                                          for o in operands), **kw)
            return back(np.asarray(out), *operands)
        return np.einsum(subscripts, *operands, **kw)

    def accumulated(fn):
        def call(x, /, *args, dtype=None, **kw):
            if dtype is bf16 or dtype is None and is_bf16(x):
                return np.asarray(fn(x, *args, dtype=f32, **kw)).astype(bf16)
            return fn(x, *args, dtype=dtype, **kw)
        call.__name__ = fn.__name__
        return call

    ns.isdtype, ns.where, ns.clip, ns.einsum = isdtype, where, clip_, einsum
    ns.matmul, ns.tensordot = in_float32(matmul), in_float32(tensordot)
    if hasattr(xp, "vecdot"):
        ns.vecdot = in_float32(xp.vecdot)
    for name in ("sum", "prod", "mean", "cumulative_sum", "cumulative_prod"):
        if hasattr(xp, name):
            setattr(ns, name, accumulated(getattr(xp, name)))
    return ns


def _bfloat16_impls(bf16, impls):
    """The backend's direct implementations (_IMPLS) that meet NumPy's bfloat16 gaps (see
    _bfloat16_namespace), each the same as before for the other dtypes."""
    f32 = np.dtype(np.float32)
    matmul, tensordot, reduce_sum = impls["matmul"], impls["tensordot"], impls["reduce_sum"]

    def bf16_matmul(x, y):
        if x.dtype is bf16 and y.dtype is bf16:
            return matmul(x.astype(f32), y.astype(f32)).astype(bf16)
        return matmul(x, y)

    def bf16_tensordot(x, y, a1, a2, perm=None):
        if x.dtype is bf16 and y.dtype is bf16:
            return tensordot(x.astype(f32), y.astype(f32), a1, a2, perm).astype(bf16)
        return tensordot(x, y, a1, a2, perm)

    def bf16_reduce_sum(x, axes, keepdims=False):
        if x.dtype is bf16:
            return np.asarray(_add_reduce(x, axis=axes, dtype=f32, keepdims=keepdims)
                              ).astype(bf16)
        return reduce_sum(x, axes, keepdims)

    return {"matmul": bf16_matmul, "tensordot": bf16_tensordot,
            "reduce_sum": bf16_reduce_sum}

