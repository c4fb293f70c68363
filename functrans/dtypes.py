"""Backend-neutral data types and the Array API's type promotion rules.

Inside functrans a dtype is a :class:`DType` (one object per name). Backends map their
native dtypes to and from these at the edge. A ``DType`` compares equal to the native dtype
of the same name of any registered library (``fnp.float64 == np.float64`` is true), so user
code can compare ``x.dtype`` against either.
"""

from __future__ import annotations

# (jax.dtypes.TypePromotionError: raised under jax_numpy_dtype_promotion='strict')
from .errors import TypePromotionError  # noqa: F401


class DType:
    """A data type, named as in the Array API standard (``float64``, ``int32``, ``bool``...)."""

    __slots__ = ("name", "kind", "bits")

    def __init__(self, name: str, kind: str, bits: int):
        self.name = name
        self.kind = kind  # 'b' bool, 'i' signed, 'u' unsigned, 'f' real float, 'c' complex
        self.bits = bits

    def __repr__(self):
        return f"functrans.numpy.{self.name}"

    __str__ = __repr__

    def __eq__(self, other):
        if other is self:
            return True
        if isinstance(other, DType):
            return False
        return as_dtype(other, strict=False) is self

    # Identity hashing keeps dict look-ups on the hot path in C; a DType is never used as a
    # key next to the native dtypes or names it compares equal to.
    __hash__ = object.__hash__

    def __reduce__(self):
        # by name: unpickled (or copied), the one DType of that name (they compare by identity)
        return _named, (self.name,)

    def __call__(self, value):
        """``fnp.float32(x)``: ``x`` as an array of this dtype (a 0-d one for a number), as
        ``jnp.float32(x)`` (NumPy's gives a scalar; arrays and tracers are cast alike)."""
        from . import numpy as fnp
        if isinstance(value, str):  # a number written out, as NumPy and JAX read it
            value = {"b": bool, "f": float, "c": complex}.get(self.kind, int)(value)
        return fnp.asarray(value, dtype=self)

    @property
    def dtype(self):
        """NumPy's dtype of this name, so that NumPy itself takes a functrans dtype
        (``np.zeros(2, dtype=fnp.float32)``, ``x.astype(fnp.float64)``), as it takes
        ``jnp.float32``."""
        import numpy
        if self is bfloat16:
            return numpy_bfloat16()
        return numpy.dtype(self.name)

    @property
    def short(self) -> str:
        """Short form used when printing graphs: f64, i32, bool, bf16."""
        if self.kind == "b":
            return "bool"
        return "bf16" if self is bfloat16 else f"{self.kind}{self.bits}"


bool_ = DType("bool", "b", 8)
int8, int16, int32, int64 = (DType(f"int{n}", "i", n) for n in (8, 16, 32, 64))
uint8, uint16, uint32, uint64 = (DType(f"uint{n}", "u", n) for n in (8, 16, 32, 64))
float32, float64 = DType("float32", "f", 32), DType("float64", "f", 64)
complex64, complex128 = DType("complex64", "c", 64), DType("complex128", "c", 128)
# The half-precision floats, beyond the Array API: IEEE float16 (NumPy, torch, CuPy) and
# bfloat16 (torch; NumPy has none of its own: ml_dtypes' where that is installed).
# There is no complex dtype of either: a complex value with one of them is complex64.
float16, bfloat16 = DType("float16", "f", 16), DType("bfloat16", "f", 16)

# The Array API standard's dtypes (what __array_namespace_info__ lists).
STANDARD = (bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
            float32, float64, complex64, complex128)
HALF = (float16, bfloat16)
ALL = STANDARD + HALF
BY_NAME = {d.name: d for d in ALL}


def _named(name: str) -> DType:
    return BY_NAME[name]

NO_NUMPY_BFLOAT16 = ("NumPy has no bfloat16 dtype of its own: functrans uses the one of the "
                     "ml_dtypes package (JAX's), which could not be imported. Install it (pip "
                     "install ml_dtypes, or pip install 'functrans[bfloat16]'), or use bfloat16 "
                     "with torch tensors (a creation function makes one with "
                     "device=torch.device('cpu')), or float16 or float32 with NumPy arrays.")


def numpy_bfloat16():
    """ml_dtypes' bfloat16 as a NumPy dtype (imported now: half a second, once); a TypeError
    saying how to get it where ml_dtypes is not installed."""
    try:
        import ml_dtypes
    except ImportError:
        raise TypeError(NO_NUMPY_BFLOAT16) from None
    import numpy
    return numpy.dtype(ml_dtypes.bfloat16)


# id(native dtype object) -> DType, filled by the backends; every DType maps to itself, so
# ``_by_id.get(id(x.dtype))`` works for tracers and arrays of any backend alike. Keyed by
# identity because dtypes of different libraries can hash equal (and array-api-strict warns
# when its dtypes are compared with NumPy's); registered dtypes are kept alive in _natives.
_by_id: dict = {id(d): d for d in ALL}
_natives: list = []


# ids of the native dtypes and DTypes of floating-point kind: ``id(x.dtype) in INEXACT_IDS``
# is the hot path's test for "x carries derivatives".
INEXACT_IDS = {id(d) for d in ALL if d.kind in "fc"}
# ... and of real floating-point kind only (``functrans.numpy.clip``'s fast path)
REAL_FLOAT_IDS = {id(d) for d in ALL if d.kind == "f"}


def register_native(native, dtype: DType) -> None:
    _natives.append(native)
    _by_id[id(native)] = dtype
    if dtype.kind in "fc":
        INEXACT_IDS.add(id(native))
    if dtype.kind == "f":
        REAL_FLOAT_IDS.add(id(native))


def as_dtype(obj, strict: bool = True) -> DType | None:
    """The :class:`DType` for ``obj``: a DType, a name, a native dtype or a Python type."""
    if isinstance(obj, DType):
        return obj
    found = _by_id.get(id(obj))
    if found is not None:
        return found
    from .backends import lookup_dtype  # a native dtype equal to a registered one
    found = lookup_dtype(obj)
    if found is not None:
        return found
    if isinstance(obj, str):
        found = BY_NAME.get(obj)
        if found is None:  # NumPy's other spellings: "f8", "double", "float", "<i4"...
            try:
                import numpy
                found = BY_NAME.get(numpy.dtype(obj).name)
            except TypeError:
                pass
    elif obj is float:
        found = float64
    elif obj is int:
        found = int64
    elif obj is bool:
        found = bool_
    elif obj is complex:
        found = complex128
    else:
        name = getattr(obj, "name", None) or getattr(obj, "__name__", None)
        found = BY_NAME.get(name) if isinstance(name, str) else None
        if found is None and isinstance(obj, type) and obj.__module__ == "numpy":
            try:  # NumPy's scalar types named otherwise (np.longlong is int64's twin)
                import numpy
                found = BY_NAME.get(numpy.dtype(obj).name)
            except TypeError:
                pass
    if found is None and strict:
        raise TypeError(f"{obj!r} is not a data type functrans knows; use one of "
                        f"{', '.join(BY_NAME)}.")
    return found


def dtype_of(x) -> DType:
    """The DType of a tracer or of an array of any registered backend (one dict look-up)."""
    try:
        d = _by_id.get(id(x.dtype))
    except AttributeError:  # not an array (a string...): the backends' error, naming it
        from .backends import backend_of
        backend_of(x)
        raise
    if d is None:
        from .core import get_aval
        return get_aval(x).dtype
    return d


def is_float(d: DType) -> bool:
    """Whether values of this dtype carry derivatives (real or complex floating point)."""
    return d.kind in "fc"


def is_inexact(d: DType) -> bool:
    return d.kind in "fc"


_FLOAT_OF_COMPLEX = {complex64: float32, complex128: float64}
# (no complex half: a half float made complex is complex64, as in NumPy, JAX and torch)
_COMPLEX_OF_FLOAT = {float16: complex64, bfloat16: complex64, float32: complex64,
                     float64: complex128}


def real_dtype(d: DType) -> DType:
    return _FLOAT_OF_COMPLEX.get(d, d)


def _promote_pair(a: DType, b: DType) -> DType:
    if a is b:
        return a
    ka, kb = a.kind, b.kind
    if ka == "b":
        return b
    if kb == "b":
        return a
    if ka in "fc" or kb in "fc":
        # Float with integer: the float wins (as in JAX; the standard leaves it open).
        if ka in "iu":
            return b
        if kb in "iu":
            return a
        ra, rb = real_dtype(a), real_dtype(b)
        if ra is rb or ra.bits != rb.bits:
            real = ra if ra.bits >= rb.bits else rb
        else:  # float16 with bfloat16: neither holds the other, float32 holds both
            real = float32
        return _COMPLEX_OF_FLOAT[real] if "c" in (ka, kb) else real
    if ka == kb:
        return a if a.bits >= b.bits else b
    # Signed with unsigned: the smallest signed type that holds both.
    s, u = (a, b) if ka == "i" else (b, a)
    if s.bits > u.bits:
        return s
    if u.bits < 64:
        return BY_NAME[f"int{u.bits * 2}"]
    raise TypeError(f"No type promotion between {a.name} and {b.name} (the Array API "
                    "defines none); cast one of them explicitly with astype.")


def result_type(*dtypes: DType) -> DType:
    """The promoted dtype of arrays with these dtypes (Array API rules). Arrays, native
    dtypes, names and Python scalars (weak, as in ``jax.dtypes.result_type``) go to
    ``functrans.numpy.result_type``."""
    try:
        out = dtypes[0]
        for d in dtypes[1:]:
            out = _promote_pair(out, d)
    except (AttributeError, IndexError):
        out = None
    if type(out) is DType:
        return out
    from .numpy import result_type as _any
    return _any(*dtypes)


def canonicalize_dtype(dtype, allow_extended_dtype: bool = False) -> DType:
    """``dtype`` (a dtype, a name, a Python type) as functrans's dtype
    (``jax.dtypes.canonicalize_dtype`` with x64: nothing narrows, ``float`` is float64). The
    key dtype needs ``allow_extended_dtype=True``."""
    if isinstance(dtype, KeyDType):
        if allow_extended_dtype:
            return dtype
        raise ValueError(f"canonicalize_dtype: {dtype} is an extended dtype; pass "
                         f"allow_extended_dtype=True.")
    return as_dtype(dtype)


def itemsize_bits(dtype) -> int:
    """The bits of one element of ``dtype`` (8 for bool), as ``jax.dtypes.itemsize_bits``."""
    return as_dtype(dtype).bits


def scalar_type_of(x) -> type:
    """The Python scalar type of ``x``'s dtype (bool, int, float or complex), as
    ``jax.dtypes.scalar_type_of``."""
    if type(x) in (bool, int, float, complex):
        return type(x)
    d = as_dtype(getattr(x, "dtype", None) or type(x))
    return {"b": bool, "i": int, "u": int, "f": float}.get(d.kind, complex)


def finfo(dtype):
    """``functrans.numpy.finfo`` (``jax.dtypes.finfo``)."""
    from .numpy import finfo as _finfo
    return _finfo(dtype)


def iinfo(dtype):
    """``functrans.numpy.iinfo`` (``jax.dtypes.iinfo``)."""
    from .numpy import iinfo as _iinfo
    return _iinfo(dtype)


def scalar_result(d: DType, scalar) -> DType:
    """Dtype of ``array(d) op scalar``: a Python scalar is weakly typed and takes the array's
    dtype, unless its kind is wider (a float scalar with an integer array gives float64...)."""
    if type(scalar) is float:  # the common case first
        return d if d.kind in "fc" else float64
    if isinstance(scalar, bool):
        return d
    if isinstance(scalar, int):
        return d if d.kind != "b" else int64
    if isinstance(scalar, float):
        return d if d.kind in "fc" else float64
    if isinstance(scalar, complex):
        return d if d.kind == "c" else _COMPLEX_OF_FLOAT.get(d, complex128)
    raise TypeError(f"Unsupported scalar {scalar!r}")


# -- extended dtypes: the dtype of typed random keys ------------------------------------------


import numpy as _numpy  # noqa: E402  (for the scalar class hierarchy only)


# JAX's dtype of the tangents of integer and boolean values (functrans.float0): jvp's
# tangents and vjp's cotangents of such values may be given as float0 arrays (zeros), as
# JAX's are; integer values carry no tangent in functrans.
float0 = _numpy.dtype([("float0", "V")])


class extended(_numpy.generic):
    """The abstract class above the dtypes that are not NumPy's (``jax.dtypes.extended``):
    here only :class:`prng_key`'s. A subclass of ``numpy.generic`` (as JAX's), never
    instantiated; the second argument of :func:`issubdtype`."""


class prng_key(extended):
    """The abstract class of the dtypes of typed random keys (``jax.dtypes.prng_key``):
    ``issubdtype(functrans.random.key(0).dtype, prng_key)`` is true."""


class KeyDType:
    """The dtype of the typed keys of :mod:`functrans.random` (``key<fry>``: a Threefry-2x32
    key, two ``uint32`` words per element, as JAX's). Not an array dtype: no arithmetic, no
    casting, nothing in :data:`ALL`; its ``type`` is :class:`prng_key`."""

    __slots__ = ("impl", "name")
    kind = "V"  # (NumPy's letter for "other"; no functrans.numpy function takes it)
    itemsize = 8
    type = prng_key

    def __init__(self, impl: str, tag: str):
        self.impl = impl
        self.name = f"key<{tag}>"

    def __repr__(self):
        return self.name

    __str__ = __repr__

    @property
    def short(self) -> str:
        """The form printed in abstract values and graphs: ``key<fry>``, as JAX prints it."""
        return self.name

    def __eq__(self, other):
        return other is self or (isinstance(other, str) and other == self.name)

    __hash__ = object.__hash__


key_fry = KeyDType("threefry2x32", "fry")


def issubdtype(arg1, arg2) -> bool:
    """Whether the dtype ``arg1`` is under ``arg2`` (``jax.dtypes.issubdtype``): the key dtype
    is under :data:`prng_key`, :data:`extended` and itself only; any other pair is
    ``functrans.numpy.issubdtype``'s answer (NumPy's type hierarchy)."""
    keys = (isinstance(arg1, KeyDType), isinstance(arg2, KeyDType))
    if keys[0]:
        if keys[1]:
            return arg1 is arg2
        return isinstance(arg2, type) and issubclass(prng_key, arg2)
    if keys[1] or (isinstance(arg2, type) and issubclass(arg2, extended)):
        return False
    from .numpy import issubdtype as _np_issubdtype
    return bool(_np_issubdtype(arg1, arg2))
