"""The core of functrans.numpy: broadcasting, promotion and Python scalars on top of the
shape-strict primitives, and the first set of Array API functions.

Every function works the same on plain arrays (returning arrays of the same library) and on
tracers inside transforms.
"""

from __future__ import annotations

import builtins
import contextvars
import functools
import math
import operator
import sys

import numpy as _np

from .. import dtypes as _dt
from ..backends import backend_of, backend_of_device as _backend_of_device
from ..backends import default as _default_backend
from ..core import _SCALAR_DTYPES, EVAL as _EVAL, INEXACT_TRACER_TYPES as _INEXACT_TRACERS
from ..core import INEXACT_NATIVES as _INEXACT_NATIVES, PUSHED as _PUSHED
from ..core import Tracer, _current, is_concrete_array as _is_concrete_array
from ..errors import AxisError, BackendMismatchError, ShapeError, UnsupportedBackendError
from ..interpreters import CONSTANT_INTERPRETERS as _CONSTANT_INTERPRETERS
from ..interpreters import constant as _constant
from ..interpreters import functrans_frame as _functrans_frame
from ..primitives import elementwise as _ew
from ..primitives import linalg as _la
from ..primitives import reductions as _red
from ..primitives import structural as _st

_SCALARS = _SCALAR_DTYPES  # Python scalar types: weakly typed constants
# True while jax_numpy_rank_promotion or jax_numpy_dtype_promotion is not at its default
# (set by functrans.numpy._promotion): the promoting and broadcasting paths below then check
# them; otherwise they read this global only.
_PROMOTION_CHECKS = False
_current_get = _current.get  # (its .interp: the current interpreter)
_INEXACT = _dt.INEXACT_IDS  # ids of floating-point dtypes, native and functrans
_REAL_SCALARS = frozenset(t for t in _SCALARS if t is not complex)
# (a bool beside a numeric array goes the slow way, as 1 or 0: array-api-strict refuses it)
_NUMBER_SCALARS = frozenset(t for t in _REAL_SCALARS if t is not bool)
_SEQUENCES = (list, tuple)  # NumPy's array-likes, made arrays by asarray
# What has no .dtype: one set look-up on the fast paths for both kinds.
_NOT_ARRAY = frozenset(_SCALARS) | frozenset(_SEQUENCES)

# -- helpers ---------------------------------------------------------------------------------


_dtype = _dtype_of = _dt.dtype_of


def _shape(x) -> tuple:
    try:  # (free in Python 3.11+ while nothing is raised)
        return tuple(x.shape)
    except AttributeError as e:
        _not_array(e, x)


# NumPy's scalar types (np.float64 is a subclass of float, but typed, and NumPy's own)
_NUMPY_SCALARS = frozenset(t for t in _np.sctypeDict.values() if issubclass(t, _np.generic))
_NOT_ARRAY_OR_NP_SCALAR = _NOT_ARRAY | _NUMPY_SCALARS  # (NumPy scalars may need moving)


def _to_array(x, dtype=None, like=None):
    """A Python scalar (or nested list of them) as an array of the library and device of the
    array behind ``like`` (which may be traced) where there is one, else where
    :func:`_creation_place` says; of ``dtype``, else the one NumPy gives Python values
    (floats float64 on every backend)."""
    c = None if like is None else _concrete_value(like)
    if dtype is None:
        dtype = _SCALAR_DTYPES.get(type(x)) or _python_dtype(x)
        if type(x) is int and not -9223372036854775808 <= x <= 9223372036854775807:
            dtype = _python_int_dtype(x)  # (uint64 as NumPy's, or a clear OverflowError)
    if type(x) in _NUMPY_SCALARS or (type(x) in _SEQUENCES and _holds_numpy_scalar(x)):
        x = _np.asarray(x).tolist()  # (Python numbers: torch refuses np.bool_ as an int)
    if c is not None:
        b, device = _place_of(c)
        return b.asarray(x, dtype=dtype, device=device)
    b, device = _data_place(x)
    return _user_data(b.asarray(x, dtype=dtype, device=device), x)


def _holds_numpy_scalar(seq):
    for o in seq:
        if type(o) in _NUMPY_SCALARS or (type(o) in _SEQUENCES and _holds_numpy_scalar(o)):
            return True
    return False


_getframe = sys._getframe


def _made_for_caller(out):
    """``out``, an array a functrans function made from no data at all (``Rotation.identity``),
    as a constant where user code called that function (the caller of this one's caller)
    under forward mode, vmap or a staging, as the creation functions' arrays are for user
    code's calls; plain for functrans's own calls."""
    if type(_current_get().interp) in _CONSTANT_INTERPRETERS and not _functrans_frame(_getframe(2)):
        return _constant(out)
    return out


def _user_data(out, data):
    """``out``, the array made of Python ``data`` (a number, a list) with no array beside
    it, as a constant (functrans.interpreters.ConstTracer) where user code gave ``data`` to a
    functrans.numpy function under forward mode, vmap or a staging: as if it had written
    ``asarray(data)``, which gives one. The result then stays in functrans.numpy's namespace
    beside the traced values and keeps their library, as jax.numpy's results are JAX arrays
    under ``jit``. Data of functrans's own (a literal inside one of its functions) stays a
    plain array: that code combines plain arrays with operators, and array-api-strict's
    refuse a tracer there. Only Python data pays for the look-up, never arrays."""
    if type(_current_get().interp) not in _CONSTANT_INTERPRETERS:
        return out
    args = _entry_arguments(_getframe(2))
    return out if args is None or not _given(data, args) else _constant(out)


def _entry_arguments(f):
    """The values of the arguments user code gave the functrans function it called (the
    outermost functrans frame from ``f`` up; ``**kwargs`` as a tuple of its values), or None
    where ``f`` runs in no such call."""
    entry = None
    while f is not None and _functrans_frame(f):
        f, entry = f.f_back, f
    if entry is None or f is None:
        return None
    code = entry.f_code
    n = code.co_argcount + code.co_kwonlyargcount + (code.co_flags & 4 and 1) + \
        (code.co_flags & 8 and 1)  # (*args, **kwargs)
    given = entry.f_locals
    out = [given.get(name) for name in code.co_varnames[:n]]
    return [tuple(v.values()) if type(v) is dict else v for v in out]


def _given(data, args):
    """Whether ``data`` is among ``args`` (or one or two levels inside a list or tuple of
    them, as *args and sequences of rows are)."""
    for v in args:
        if v is data:
            return True
        t = type(v)
        if (t is list or t is tuple) and builtins.any(
                o is data or (type(o) in _SEQUENCES and builtins.any(p is data for p in o))
                for o in v):
            return True
    return False


def _data_place(data):
    """``(backend, device)`` for Python ``data`` (a number, a list) made an array with no
    array named beside it. Inside a transform, :func:`_creation_place`'s. Outside, where user
    code gave ``data`` to a functrans function together with an array (``multiply(tensor,
    [1.5, 2.5])``, ``stack([tensor, [0.0, 1.0]])``), that array's library and device, as
    NumPy makes array-likes arrays beside the other operands; else the default backend's.
    Only Python data pays for the look at the caller's arguments, never arrays."""
    if _current_get().interp is not _EVAL:
        return _creation_place()
    args = _entry_arguments(_getframe(2))
    if args is not None and _given(data, args):
        for v in args:
            a = _array_among(v)
            if a is not None:
                return _place_of(a)
    return _default_backend(), None


def _array_among(v):
    """``v`` if it is an array of a backend (not a NumPy scalar: those move to the other
    operands' library too), else the first such item of the list or tuple ``v``, else None."""
    t = type(v)
    if t is list or t is tuple:
        for o in v:
            if type(o) not in _NOT_ARRAY_OR_NP_SCALAR and _is_concrete_array(o):
                return o
        return None
    return v if t not in _NOT_ARRAY_OR_NP_SCALAR and _is_concrete_array(v) else None


def _python_dtype(value):
    """The dtype NumPy gives a Python scalar or a nested sequence of them (NumPy scalars
    among them too: NumPy's array of them decides)."""
    kinds = set()

    def walk(v):
        if isinstance(v, (list, tuple)):
            for o in v:
                walk(o)
        else:
            kinds.add(type(v))
    walk(value)
    if not kinds.isdisjoint(_NUMPY_SCALARS):
        return _dt.dtype_of(_np.asarray(value))
    for t, d in ((complex, _dt.complex128), (float, _dt.float64)):
        if t in kinds:
            return d
    if int in kinds:
        return _python_int_dtype(value)
    return _dt.bool_ if kinds else _dt.float64


def _python_int_dtype(value):
    """NumPy's dtype for Python ints (bools among them): int64, unless one is past int64's
    range: uint64 where all of those fit it and no other int is there ([2**63] is uint64),
    float64 beside smaller ints ([1, 2**63], NumPy's int64 with uint64); one NumPy would keep
    as an object array (past uint64, below int64's minimum) is an OverflowError."""
    big = small = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif type(v) is int:
            if v > 9223372036854775807:
                if v > 18446744073709551615:
                    raise OverflowError(f"Python int {v} is too large for any integer dtype "
                                        f"(uint64 holds up to 2**64 - 1; NumPy would make an "
                                        f"object array): pass it as a float, or dtype=float")
                big += 1
            elif v < -9223372036854775808:
                raise OverflowError(f"Python int {v} is too small for int64 (NumPy would make "
                                    f"an object array): pass it as a float, or dtype=float")
            else:
                small += 1
    if not big:
        return _dt.int64
    return _dt.float64 if small else _dt.uint64


def _first_array(seq):
    """The first array or tracer in ``seq``, looking into nested lists and tuples, or None:
    Python values made beside it go to its library and device. NumPy scalars count only
    where there is nothing else: they are numbers that move to the other operands' library
    (see :func:`_numpy_scalars_beside`)."""
    a = _first_among(seq, _NOT_ARRAY_OR_NP_SCALAR)
    return _first_among(seq, _SCALARS) if a is None else a


def _first_among(seq, skipped):
    if isinstance(seq, (list, tuple)):
        for o in seq:
            a = _first_among(o, skipped)
            if a is not None:
                return a
        return None
    return None if type(seq) in skipped else seq


def _numpy_scalars_moved(args):
    """``args`` with their NumPy scalars beside another library's array made 0-d arrays of
    it (:func:`_numpy_scalars_beside`): for the helpers that take a composite function's
    operands before they are reshaped or broadcast, after which the scalar would be a NumPy
    array that must not move."""
    for a in args:  # (a loop, not any(): free where there is no NumPy scalar)
        if type(a) in _NUMPY_SCALARS:
            return _numpy_scalars_beside(*args)
    return args


def _unstacked(arrays):
    """Arrays to join given as one array (NumPy iterates over its first axis): its slices,
    taken by indexing (array-api-strict refuses iteration and partial indices). Lists,
    tuples and 0-d arrays are returned as they are."""
    if isinstance(arrays, (list, tuple)) or not getattr(arrays, "shape", None):
        return arrays
    return [arrays[i, ...] for i in range(_shape(arrays)[0])]


def broadcast_shapes(*shapes) -> tuple:
    ndim = builtins.max(len(s) for s in shapes)
    out = []
    for i in range(-ndim, 0):
        size = 1
        for s in shapes:
            if len(s) >= -i:
                d = s[i]
                if d != 1:
                    if size != 1 and d != size:
                        raise ShapeError(
                            f"operands could not be broadcast together with shapes "
                            f"{' '.join(map(str, shapes))}: axis {i} has sizes {size} and {d}")
                    size = d
        out.append(size)
    return tuple(out)


def _numpy_scalars_beside(*args):
    """NumPy scalars (``np.float64(0.5)``, what NumPy's reductions return) next to an array
    of another library become 0-d arrays of that library and device, keeping their dtype
    (NumPy's scalars are typed). A host number, as a Python float is: NumPy *arrays* beside
    another library's still raise BackendMismatchError."""
    like = next((a for a in args if type(a) not in _NOT_ARRAY_OR_NP_SCALAR), None)
    c = None if like is None else _concrete_value(like)
    if c is None or type(c) in _NUMPY_SCALARS or backend_of(c).name == "numpy":
        return args
    return [_to_array(a, dtype=_dtype(a), like=like) if type(a) in _NUMPY_SCALARS else a
            for a in args]


def _promote_arrays(args):
    """Cast array operands to their common dtype (Python scalars stay weak)."""
    if len(args) == 2:  # two arrays of one dtype: the common case, first
        a, b = args
        if type(a) not in _NOT_ARRAY_OR_NP_SCALAR and type(b) not in _NOT_ARRAY_OR_NP_SCALAR:
            da = _dtype(a)
            if da is _dtype(b):
                return args, da
    for a in args:  # (a loop, not any(): this is on the path of where and concat)
        if type(a) in _NUMPY_SCALARS:
            args = _numpy_scalars_beside(*args)
            break
    arrays = [a for a in args if type(a) not in _SCALARS]
    dts = [_dtype(a) for a in arrays]
    if _PROMOTION_CHECKS:
        _promotion.check_dtypes(_caller_name(), args)
    target = _dt.result_type(*dts)
    for s in args:
        if type(s) in _SCALARS:
            target = _dt.scalar_result(target, s)
    return [(int(a) if type(a) is bool and target is not _dt.bool_ else a)  # (as in _binary)
            if type(a) in _SCALARS else a if _dtype(a) is target
            else _st.convert_element_type(a, target) for a in args], target


def _caller_name():
    """The name of the functrans.numpy function promoting its operands (for messages)."""
    return sys._getframe(2).f_code.co_name


def _with_scalar(x, s):
    """``x`` cast to the dtype of ``x op s`` for a Python scalar ``s`` (rarely a change)."""
    d = _dtype_of(x)
    r = _dt.scalar_result(d, s)
    return x if r is d else _st.convert_element_type(x, r)


# The integer dtypes' ranges, for Python ints beside integer arrays (the int takes the
# array's dtype, NumPy 2's weak scalars): outside it NumPy raises an OverflowError (unclear
# beyond int64: "too large to convert to C long"), torch wraps round silently and
# array-api-strict raises, so functrans checks once for every backend.
_INT_RANGES = {id(d): (int(_np.iinfo(d.name).min), int(_np.iinfo(d.name).max))
               for d in (_dt.int8, _dt.int16, _dt.int32, _dt.int64, _dt.uint8, _dt.uint16,
                         _dt.uint32, _dt.uint64)}
# Comparisons with an int beyond the range have one answer for every element (NumPy 2 gives
# it): (answer where the int is above the range, where it is below), with the array first.
_BEYOND_RANGE = {_ew.eq_p: (False, False), _ew.ne_p: (True, True), _ew.lt_p: (True, False),
                 _ew.le_p: (True, False), _ew.gt_p: (False, True), _ew.ge_p: (False, True)}
_PUBLIC_NAMES = {"mul": "multiply", "sub": "subtract", "max": "maximum", "min": "minimum",
                 "div": "divide", "rem": "remainder"}
_FLIPPED = {_ew.lt_p: _ew.gt_p, _ew.le_p: _ew.ge_p, _ew.gt_p: _ew.lt_p, _ew.ge_p: _ew.le_p}


def _int_beyond_range(prim, x, s, scalar_first):
    """``prim(x, s)`` (``prim(s, x)`` if ``scalar_first``) for a Python int ``s`` outside the
    range of the integer dtype of ``x``: a comparison's constant answer, as NumPy 2's,
    else a clear OverflowError."""
    d = _dtype_of(x)
    lo, hi = _INT_RANGES[id(d)]
    if scalar_first:
        prim = _FLIPPED.get(prim, prim)
    answers = _BEYOND_RANGE.get(prim)
    if answers is None:
        name = _PUBLIC_NAMES.get(prim.name, prim.name)
        raise OverflowError(f"{name}: Python integer {s} is out of bounds for {d.name} "
                            f"(the dtype of the array operand, which a Python int takes; "
                            f"{d.name} holds {lo} to {hi}): cast the array to a wider dtype "
                            f"first (astype), or pass the number as an array of its own dtype")
    # x == x is True for every integer element and x != x False: the answer in x's shape,
    # traced where x is.
    answer = answers[0] if s > hi else answers[1]
    return (_ew.eq_p if answer else _ew.ne_p).bind(x, x)


def _binary(prim, x, y):
    """Bind a binary elementwise primitive with NumPy-style broadcasting and promotion."""
    try:  # (free in Python 3.11+ while nothing is raised)
        if type(x) in _SEQUENCES:
            x = _from_sequence(x)
        if type(y) in _SEQUENCES:
            y = _from_sequence(y)
        if type(y) in _SCALARS:
            if type(x) in _SCALARS:
                x = _to_array(x)
            elif type(y) is bool and _dtype_of(x) is not _dt.bool_:
                if _PROMOTION_CHECKS:
                    _promotion.check_dtypes(prim.name, (x, y))
                y = int(y)  # (its value in the array's dtype: array-api-strict refuses a bool)
            if type(y) is not complex and id(x.dtype) in _INEXACT:
                return prim.bind(x, y)  # the common case: no promotion needed
            if _PROMOTION_CHECKS:
                _promotion.check_dtypes(prim.name, (x, y))
            x = _with_scalar(x, y)
            if type(y) is int and not 0 <= y <= 127:  # (what every integer dtype holds)
                r = _INT_RANGES.get(id(_dtype_of(x)))
                if r is not None and not r[0] <= y <= r[1]:
                    return _int_beyond_range(prim, x, y, False)
            return prim.bind(x, y)
        if type(x) in _SCALARS:
            if type(x) is bool and _dtype_of(y) is not _dt.bool_:
                if _PROMOTION_CHECKS:
                    _promotion.check_dtypes(prim.name, (x, y))
                x = int(x)
            if type(x) is not complex and id(y.dtype) in _INEXACT:
                return prim.bind(x, y)
            if _PROMOTION_CHECKS:
                _promotion.check_dtypes(prim.name, (x, y))
            y = _with_scalar(y, x)
            if type(x) is int and not 0 <= x <= 127:
                r = _INT_RANGES.get(id(_dtype_of(y)))
                if r is not None and not r[0] <= x <= r[1]:
                    return _int_beyond_range(prim, y, x, True)
            return prim.bind(x, y)
        dx, dy = x.dtype, y.dtype
        if dx is not dy:  # (two libraries' dtype objects: a NumPy scalar beside a tensor)
            if type(x) in _NUMPY_SCALARS or type(y) in _NUMPY_SCALARS:
                x, y = _numpy_scalars_beside(x, y)
            if _dtype_of(x) is not _dtype_of(y):
                if _PROMOTION_CHECKS:
                    _promotion.check_dtypes(prim.name, (x, y))
                (x, y), _ = _promote_arrays((x, y))
        elif type(x) is not type(y) and (type(x) in _NUMPY_SCALARS
                                         or type(y) in _NUMPY_SCALARS):
            # (one dtype object, two libraries: a NumPy scalar beside an array of a library
            # that uses NumPy's dtypes, as JAX's and Dask's do)
            x, y = _numpy_scalars_beside(x, y)
        sx, sy = x.shape, y.shape
        if sx != sy:
            sx, sy = tuple(sx), tuple(sy)
            if _PROMOTION_CHECKS and len(sx) != len(sy) and sx and sy:
                _promotion.check_rank(prim.name, sx, sy)
            shape, dx, dy = _broadcast_plan(sx, sy)
            if dx is not None:
                x = _bcast_bind(x, shape=shape, dims=dx)
            if dy is not None:
                y = _bcast_bind(y, shape=shape, dims=dy)
        return prim.bind(x, y)
    except AttributeError as e:
        _not_array(e, x, y)


@functools.lru_cache(maxsize=4096)
def _broadcast_plan(sx, sy):
    """The broadcast shape of operands of shapes ``sx`` and ``sy``, then for each the dims of a
    broadcast_in_dim to it (None where it has that shape already): a binary operation on
    unequal shapes (a bias add) repeats with the same shapes at every step."""
    shape = broadcast_shapes(sx, sy)
    n = len(shape)
    return (shape, None if sx == shape else tuple(range(n - len(sx), n)),
            None if sy == shape else tuple(range(n - len(sy), n)))


_bcast_bind = _st.broadcast_p.bind


def _unary_float(prim, x):
    """Bind a unary function defined on floating point: integers are promoted to the default
    float dtype first (as NumPy does)."""
    if type(x) in _SEQUENCES:
        x = _from_sequence(x)
    if type(x) not in _SCALARS and id(x.dtype) in _INEXACT:
        return prim.bind(x)
    if type(x) in _SCALARS:  # (x itself, not float(x): see _user_data)
        x = _to_array(x, _dt.float64) if type(x) is not complex else _to_array(x)
    elif not _is_float_array(x):
        x = _st.convert_element_type(x, _dt.float64)
    return prim.bind(x)


def _is_float_array(x):
    return _dtype_of(x).kind in "fc"


def _normalize_axes(axis, ndim, what="axis"):
    if axis is None:
        return _ALL_AXES[ndim] if ndim < 33 else tuple(range(ndim))
    if type(axis) is int:
        if 0 <= axis < ndim:
            return (axis,)  # the common case
        axis = (axis,)
    elif isinstance(axis, (int, _np.integer)):  # (NumPy's integers too, as NumPy takes)
        axis = (axis,)
    out = []
    for a in axis:
        a = int(a)
        if not -builtins.max(ndim, 1) <= a < builtins.max(ndim, 1):
            raise AxisError(f"{what} {a} is out of bounds for an array of {ndim} dimensions",
                            a, ndim)
        if ndim:  # a 0-d array has no axis to reduce: axis 0 or -1 there reduces nothing
            out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"repeated {what} in {axis}")
    return tuple(sorted(out))


_ALL_AXES = tuple(tuple(range(n)) for n in range(33))  # (every axis of an array of n)


def _normalize_axis(axis, ndim):
    if type(axis) is not int:
        axis = _one_axis(axis)
    if not -ndim <= axis < ndim:
        raise AxisError(f"axis {axis} is out of bounds for an array of {ndim} dimensions",
                        axis, ndim)
    return axis % ndim


def _one_axis(axis):
    """``axis`` (a NumPy integer...) as an int, for a function working along one axis."""
    try:
        return operator.index(axis)
    except TypeError:
        raise TypeError(f"axis must be one integer here (this function works along a single "
                        f"axis); got {axis!r} of type {type(axis).__name__}") from None


def _as_operand(x):
    t = type(x)
    if t in _SCALARS:
        return _to_array(x)
    if t is list or t is tuple:  # NumPy's array-likes: nested sequences (tracers in them too)
        return _from_sequence(x)
    return x


def _from_sequence(x):
    from ._creation import asarray
    return asarray(x)


def _key_operand(*args):
    return builtins.any(isinstance(getattr(a, "dtype", None), _dt.KeyDType) for a in args)


def _typed_keys(e, name, fn, keys, others=()):
    """The slow path of a structural function an operand of which has no backend (``e``, the
    error that gave): where the operands hold typed keys (functrans.random's key arrays),
    ``fn`` applied to their two words, as a key array; else ``e`` raised again."""
    if not builtins.any(isinstance(getattr(k, "dtype", None), _dt.KeyDType)
                        for k in (*keys, *others)):
        raise e
    from ..random import _on_words
    return _on_words(name, fn, keys, others)

# -- elementwise arithmetic --------------------------------------------------------------------


def _no_out(name, out):
    """NumPy's and jax.numpy's ``out=`` (of reductions, elementwise functions...): None is
    accepted; an array is refused, as jax.numpy refuses it."""
    if out is not None:
        raise NotImplementedError(
            f"{name}: out= is not supported (functrans arrays are never written in place); "
            f"use the returned array")


def _ufunc_options(name, out, where):
    """NumPy's ``out=`` and ``where=`` of an elementwise function (``where``: the elements
    of ``out`` to write, the others left as they were): None (and ``where=True``) are
    accepted, as by NumPy and jax.numpy's ufuncs; anything else is refused, as jax.numpy
    refuses it."""
    _no_out(name, out)
    if where is not None and where is not True:
        raise NotImplementedError(
            f"{name}: where= is not supported (it leaves elements of an out= array "
            f"unwritten); use functrans.numpy.where(mask, {name}(...), other) instead")


def _not_array(e, *operands):
    """Raise, for ``e`` (an AttributeError) saying that one of ``operands`` lacks an array's
    attribute (``dtype``, ``shape``), the error for a value of no backend (a str, an
    object()), naming the function called; else ``e`` again."""
    if builtins.any(e.obj is o for o in operands):
        backend_of(e.obj)  # (raises UnsupportedBackendError)
    raise e


def _binary_function(prim, name, doc, keys=None, reflected=None):
    """A namespace function for a binary elementwise primitive. The common cases (an array
    with a Python scalar, or two arrays of one dtype: of one shape, or of any where the
    implementation is the library's Array API function, which broadcasts) bind directly; the
    rest goes through broadcasting and promotion in :func:`_binary`. ``keys`` ('all' or 'any'): the
    function compares typed keys (functrans.random's), both words joined by and/or; only
    reached where the call failed (a key array has no backend), so nothing on the way.
    Binding calls the current interpreter directly: ``prim.bind`` without its frame.
    ``reflected`` (``"__radd__"``): the function is a tracer's operator method instead,
    NotImplemented where ``x2`` is of no backend and its type has that reflected operator
    (core._defers); likewise only on the failed call's way."""
    impls_get = prim._impls.get
    broadcasting_get = prim._broadcasting.get

    def fn(x1, x2, /, out=None, where=None):
        if out is not None or where is not None:
            _ufunc_options(name, out, where)
        try:  # (free in Python 3.11+ while nothing is raised)
            t1, t2 = type(x1), type(x2)
            # No transform and an array of a backend seen before: straight to the library
            # when no promotion is needed (two arrays of one dtype, or a Python number beside
            # a floating-point array) and no broadcasting, or it is the library's function,
            # which broadcasts as functrans.numpy does: the shapes are then not compared
            # (two tuples made: half of this path's cost) unless it fails, when the full path
            # gives functrans's error.
            f = broadcasting_get(t1)
            if f is not None:
                if not _PUSHED or _current_get().interp is _EVAL:
                    if t2 is t1:
                        if x1.dtype is x2.dtype and not _PROMOTION_CHECKS:
                            try:
                                return f(x1, x2)
                            except Exception:
                                if x1.shape == x2.shape:
                                    raise
                            return _binary(prim, x1, x2)
                    elif t2 in _NUMBER_SCALARS and x1.dtype in _INEXACT_NATIVES[t1]:
                        return f(x1, x2)
            elif t1 in _INEXACT_TRACERS:  # (forward mode's: no dtype to look at)
                if t2 in _NUMBER_SCALARS:
                    return _current_get().interp.process(prim, (x1, x2), {})
            else:
                f = impls_get(t1)  # (a backend's own implementation: shape-strict)
                if f is not None and (not _PUSHED or _current_get().interp is _EVAL):
                    if t2 is t1:
                        if x1.dtype is x2.dtype and x1.shape == x2.shape:
                            return f(x1, x2)
                    elif t2 in _NUMBER_SCALARS and x1.dtype in _INEXACT_NATIVES[t1]:
                        return f(x1, x2)
                elif t1 in _NUMBER_SCALARS:
                    # A Python number before a floating-point array or forward-mode tracer
                    # (2.0 ** x, 1.0 - x): what _binary and the evaluator would do (the
                    # implementation under the array's type), without their frames and
                    # tests (exp2 of 10 elements 1.7 -> 0.7 us)
                    f = impls_get(t2)
                    if f is not None:
                        if x2.dtype in _INEXACT_NATIVES[t2] and (
                                not _PUSHED or _current_get().interp is _EVAL):
                            return f(x1, x2)
                    elif t2 in _INEXACT_TRACERS:
                        return _current_get().interp.process(prim, (x1, x2), {})
            if t2 in _NUMBER_SCALARS:
                if t1 not in _NOT_ARRAY and id(x1.dtype) in _INEXACT:
                    return _current_get().interp.process(prim, (x1, x2), {})
            elif t1 is t2 and t1 not in _NOT_ARRAY and (x1 is x2 or (  # (x * x: one value)
                    x1.dtype is x2.dtype and x1.shape == x2.shape)):
                return _current_get().interp.process(prim, (x1, x2), {})
            return _binary(prim, x1, x2)
        except AttributeError as e:
            _not_array(e, x1, x2)
        except Exception as e:
            if reflected is not None and isinstance(e, UnsupportedBackendError):
                from ..core import _defers
                if _defers(x2, reflected):
                    return NotImplemented
            if keys is None or not _key_operand(x1, x2):
                raise
        from ._keys import compare_keys
        return compare_keys(fn, f"functrans.numpy.{name}", keys, x1, x2)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _float_function(prim, name, doc):
    """A namespace function for a unary primitive defined on floating point (integers are
    promoted to float64 first, as NumPy does). Binds as :func:`_binary_function` does."""
    impls_get = prim._impls.get

    def fn(x, /, out=None, where=None):
        if out is not None or where is not None:
            _ufunc_options(name, out, where)
        # No transform active and an array of a backend seen before (its type is then a key
        # of the primitive's implementations): what the evaluator would do, without its
        # frames. A tracer (even a leaked one) owns no backend, so it takes the full path.
        # No transform running anywhere (core.PUSHED empty) spares the context's look-up.
        try:  # (free in Python 3.11+ while nothing is raised)
            t = type(x)
            f = impls_get(t)
            if f is not None and x.dtype in _INEXACT_NATIVES[t] and (
                    not _PUSHED or _current_get().interp is _EVAL):
                return f(x)
            if t in _INEXACT_TRACERS:
                return _current_get().interp.process(prim, (x,), {})
            if t not in _NOT_ARRAY and id(x.dtype) in _INEXACT:
                return _current_get().interp.process(prim, (x,), {})
            return _unary_float(prim, x)
        except AttributeError as e:
            _not_array(e, x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


add = _binary_function(_ew.add_p, "add", "Elementwise ``x1 + x2``, broadcasting.")
subtract = _binary_function(_ew.sub_p, "subtract", "Elementwise ``x1 - x2``.")
multiply = _binary_function(_ew.mul_p, "multiply", "Elementwise ``x1 * x2``.")
pow = _binary_function(_ew.pow_p, "pow", "Elementwise ``x1 ** x2``.")
maximum = _binary_function(_ew.max_p, "maximum", "Elementwise maximum; at ties the "
                           "derivative is shared equally by both operands (as in JAX).")
minimum = _binary_function(_ew.min_p, "minimum", "Elementwise minimum; at ties the "
                           "derivative is shared equally by both operands (as in JAX).")


def _divide_function(reflected=None):
    """``divide``; with ``reflected`` the tracers' ``/`` (as _binary_function's)."""
    div_p = _ew.div_p
    broadcasting_get = div_p._broadcasting.get
    impls_get = div_p._impls.get
    def divide(x1, x2, /, out=None, where=None):
        """Elementwise true division ``x1 / x2`` (integers give floats)."""
        if out is not None or where is not None:
            _ufunc_options("divide", out, where)
        try:  # (free in Python 3.11+ while nothing is raised)
            # A floating-point dividend needs no conversion: the fast paths of
            # _binary_function's functions (straight to the library with no transform
            # around, a forward-mode tracer by a Python number to the interpreter), the
            # same calls the full path below ends in.
            t1, t2 = type(x1), type(x2)
            f = broadcasting_get(t1)
            if f is not None:
                if not _PUSHED or _current_get().interp is _EVAL:
                    if t2 in _NUMBER_SCALARS:
                        if x1.dtype in _INEXACT_NATIVES[t1]:
                            return f(x1, x2)
                    elif t2 is t1 and x1.dtype is x2.dtype and not _PROMOTION_CHECKS and \
                            x1.dtype in _INEXACT_NATIVES[t1]:
                        try:
                            return f(x1, x2)
                        except Exception:
                            if x1.shape == x2.shape:
                                raise
            elif t1 in _INEXACT_TRACERS:
                if t2 in _NUMBER_SCALARS:
                    return _current_get().interp.process(div_p, (x1, x2), {})
            elif t1 in _NUMBER_SCALARS:  # (1.0 / x: as _binary_function's)
                f = impls_get(t2)
                if f is not None:
                    if x2.dtype in _INEXACT_NATIVES[t2] and (
                            not _PUSHED or _current_get().interp is _EVAL):
                        return f(x1, x2)
                elif t2 in _INEXACT_TRACERS:
                    return _current_get().interp.process(div_p, (x1, x2), {})
            if type(x1) in _SEQUENCES or type(x2) in _SEQUENCES:
                x1, x2 = _as_operand(x1), _as_operand(x2)
            # An integer (or bool) array becomes float64 unless the other operand is a
            # floating array, whose dtype the promotion gives (int8 / float32 is float32, as
            # in NumPy/JAX)
            f1 = type(x1) not in _SCALARS and _is_float_array(x1)
            f2 = type(x2) not in _SCALARS and _is_float_array(x2)
            if type(x1) not in _SCALARS and not f1 and not f2:
                x1 = _st.convert_element_type(x1, _dt.float64)
            if type(x2) not in _SCALARS and not f2 and not f1:
                x2 = _st.convert_element_type(x2, _dt.float64)
            if type(x1) in _SCALARS and type(x2) in _SCALARS:
                x1 = _to_array(x1, _dt.float64) if type(x1) is not complex else _to_array(x1)
            return _binary(_ew.div_p, x1, x2)
        except UnsupportedBackendError:
            if reflected is not None:
                from ..core import _defers
                if _defers(x2, reflected):
                    return NotImplemented
            raise
    if reflected is not None:
        divide.__name__ = divide.__qualname__ = "__truediv__"
    return divide


divide = _divide_function()


def negative(x, /, out=None, where=None):
    """Elementwise ``-x``."""
    if out is not None or where is not None:
        _ufunc_options("negative", out, where)
    f = _neg_impls_get(type(x))
    if f is not None and (not _PUSHED or _current_get().interp is _EVAL):  # (as above)
        return f(x)
    return _ew.neg_p.bind(_as_operand(x))


_neg_impls_get = _ew.neg_p._impls.get


def positive(x, /, out=None, where=None):
    """Elementwise ``+x`` (returns ``x``)."""
    if out is not None or where is not None:
        _ufunc_options("positive", out, where)
    return _as_operand(x)


def square(x, /, out=None, where=None):
    """Elementwise ``x * x`` (booleans give int8, as in NumPy, which has no boolean loop)."""
    if out is not None or where is not None:
        _ufunc_options("square", out, where)
    x = _as_operand(x)
    if _dtype_of(x) is _dt.bool_:
        x = _st.convert_element_type(x, _dt.int8)
    return _ew.mul_p.bind(x, x)


exp = _float_function(_ew.exp_p, "exp", "Elementwise exponential.")
log = _float_function(_ew.log_p, "log", "Elementwise natural logarithm.")
sin = _float_function(_ew.sin_p, "sin", "Elementwise sine.")
cos = _float_function(_ew.cos_p, "cos", "Elementwise cosine.")
tanh = _float_function(_ew.tanh_p, "tanh", "Elementwise hyperbolic tangent.")
sqrt = _float_function(_ew.sqrt_p, "sqrt", "Elementwise square root (its derivative at 0 is "
                       "infinite, as in JAX).")

# -- comparisons: boolean results, no derivative -----------------------------------------------

equal = _binary_function(_ew.eq_p, "equal", "Elementwise ``x1 == x2``.", keys="all")
not_equal = _binary_function(_ew.ne_p, "not_equal", "Elementwise ``x1 != x2``.", keys="any")
less = _binary_function(_ew.lt_p, "less", "Elementwise ``x1 < x2``.")
less_equal = _binary_function(_ew.le_p, "less_equal", "Elementwise ``x1 <= x2``.")
greater = _binary_function(_ew.gt_p, "greater", "Elementwise ``x1 > x2``.")
greater_equal = _binary_function(_ew.ge_p, "greater_equal", "Elementwise ``x1 >= x2``.")

# Tracers' operators with self first (core.Tracer.__add__...): these functions again, as
# operator methods (``reflected``), so that ``tracer + x`` costs no frame more than add().
_OPERATOR_METHODS = {
    op: _binary_function(p, f"__{op}__", f"``x1 {sym} x2`` (see {name}).", reflected=refl)
    for op, p, name, sym, refl in (
        ("add", _ew.add_p, "add", "+", "__radd__"),
        ("sub", _ew.sub_p, "subtract", "-", "__rsub__"),
        ("mul", _ew.mul_p, "multiply", "*", "__rmul__"),
        ("pow", _ew.pow_p, "pow", "**", "__rpow__"),
        ("lt", _ew.lt_p, "less", "<", "__gt__"),
        ("le", _ew.le_p, "less_equal", "<=", "__ge__"),
        ("gt", _ew.gt_p, "greater", ">", "__lt__"),
        ("ge", _ew.ge_p, "greater_equal", ">=", "__le__"))}
_OPERATOR_METHODS["truediv"] = _divide_function("__rtruediv__")


def where(condition, x1=None, x2=None, /, *, size=None, fill_value=None):
    """Elementwise choice: ``x1`` where ``condition`` is true, else ``x2``. The derivative
    flows to the chosen operand only. ``where(condition)`` alone is NumPy's
    ``nonzero(condition)`` (the indices of the true elements; needs concrete values), which
    takes ``jax.numpy``'s ``size`` and ``fill_value`` (see ``nonzero``)."""
    if x1 is None and x2 is None:
        from ._searching import nonzero
        return nonzero(condition, size=size, fill_value=fill_value)
    if size is not None or fill_value is not None:
        raise ValueError("where: size and fill_value apply only to where(condition) alone "
                         "(the nonzero form), not with x1 and x2")
    if x1 is None or x2 is None:
        raise TypeError("where: give both x1 and x2, or neither (then it is nonzero)")
    t = type(condition)
    if t is _np.bool_ and type(x1) is _np.ndarray and type(x2) is _np.ndarray:
        # NumPy's comparisons of 0-d arrays give NumPy scalars (where(x > 0, x, y) on 0-d):
        # the same primitive at once where the operands are 0-d of one dtype.
        if x1.dtype is x2.dtype and x1.shape == () and x2.shape == ():
            return _ew.select_p.bind(condition, x1, x2)
    elif t not in _NOT_ARRAY_OR_NP_SCALAR:
        # A boolean condition and two operands of its shape and one dtype, arrays or tracers
        # of any kinds (under forward mode the condition is a constant, the operands JVP
        # tracers), or one a Python number beside an inexact one (where(c, x, 1.0)): nothing
        # to move, promote or broadcast below, so the primitive at once (the same bind the
        # path below ends in).
        t1, t2 = type(x1), type(x2)
        try:
            shape = condition.shape
            if t1 not in _NOT_ARRAY_OR_NP_SCALAR:
                if t2 not in _NOT_ARRAY_OR_NP_SCALAR:
                    if x1.shape == shape and x2.shape == shape:
                        d1 = _dtype(x1)
                        if d1 is _dtype(x2) and d1.kind in "biufc" and \
                                _dtype(condition) is _dt.bool_:
                            return _ew.select_p.bind(condition, x1, x2)
                elif t2 in _NUMBER_SCALARS and x1.shape == shape and \
                        _dtype(x1).kind in "fc" and _dtype(condition) is _dt.bool_ \
                        and not _PROMOTION_CHECKS:
                    return _ew.select_p.bind(condition, x1, x2)
            elif t1 in _NUMBER_SCALARS and t2 not in _NOT_ARRAY_OR_NP_SCALAR and \
                    x2.shape == shape and _dtype(x2).kind in "fc" and \
                    _dtype(condition) is _dt.bool_ and not _PROMOTION_CHECKS:
                return _ew.select_p.bind(condition, x1, x2)
        except (AttributeError, UnsupportedBackendError):  # (no array, typed keys: the
            pass  # path below names what it is, or takes their words)
    args = [_as_operand(a) if type(a) in _SEQUENCES else a for a in (condition, x1, x2)]
    args = list(_numpy_scalars_moved(args))  # (beside the condition's library too)
    x1, x2 = args[1], args[2]
    if type(x1) in _SCALARS and type(x2) in _SCALARS:
        args[1] = _to_array(x1, like=args[0])  # (the condition as an array, if a list)
    try:
        vals, _ = _promote_arrays(args[1:])
    except UnsupportedBackendError as e:
        return _typed_keys(e, "where", lambda a, b: where(args[0], a, b), args[1:], args[:1])
    args[1:] = vals
    if type(args[0]) in _SCALARS:
        # a Python condition (jnp.where(training, ...)) becomes a boolean array of the
        # operands' library: torch's where takes no Python bool
        operand = args[1] if type(args[1]) not in _SCALARS else args[2]
        args[0] = _to_array(bool(args[0]), like=operand)
    elif _dtype(args[0]) is not _dt.bool_:
        # a number's truth, as NumPy and JAX take it (torch and array-api-strict refuse a
        # condition that is not boolean)
        # (the zero broadcast to the condition's shape: the primitive is shape-strict, and
        # under vmap a 0-d operand beside a batched one met the batch's length)
        zero = _to_array(0, dtype=_dtype(args[0]), like=args[0])
        args[0] = _ew.ne_p.bind(args[0], _st.broadcast_to(zero, _shape(args[0])))
    shapes = [_shape(a) for a in args if type(a) not in _SCALARS]
    shape = broadcast_shapes(*shapes)
    args = [a if type(a) in _SCALARS else _st.broadcast_to(a, shape) for a in args]
    return _ew.select_p.bind(*args)

# -- reductions --------------------------------------------------------------------------------


def _reduce(red, x, axis, keepdims):
    x = _as_operand(x)
    shape = _shape(x)
    axes = _normalize_axes(axis, len(shape))
    if not axes:
        return x
    prim = _KEEPDIMS.get(red)
    if prim is not None:
        # (one primitive, which keeps the axes itself; bound here, the axes a sorted tuple
        # already: without the wrapper's two frames)
        return prim.bind(x, axes=axes, keepdims=True) if keepdims else prim.bind(x, axes=axes)
    if keepdims:
        # (the reduced shape has fewer axes: always a reshape, bound directly)
        return _reshape_bind(red(x, axes), shape=tuple(1 if i in axes else d
                                                       for i, d in enumerate(shape)))
    return red(x, axes)


_reshape_bind = _st.reshape_p.bind
# the reductions with a keepdims parameter: wrapper -> primitive
_KEEPDIMS = {_red.reduce_sum: _red.reduce_sum_p, _red.reduce_max: _red.reduce_max_p,
             _red.reduce_min: _red.reduce_min_p}



def _where_mask(x, where, name):
    """NumPy's ``where=`` of a reduction: a boolean array (or Python bool) broadcast to
    ``x``'s shape, or None where every element takes part."""
    if where is None or where is True:
        return None
    if type(where) is not bool:
        where = _as_operand(where)
        if _dtype(where).kind != "b":
            raise TypeError(f"{name}: where= must be a boolean mask; got {_dtype(where).name}")
    else:
        where = _to_array(where, like=x)
    shape = _shape(x)
    if _shape(where) != shape:
        try:
            fits = broadcast_shapes(_shape(where), shape) == shape
        except ShapeError:
            fits = False
        if not fits:
            raise ShapeError(f"{name}: where= of shape {_shape(where)} does not broadcast to "
                             f"the array's shape {shape}")
        where = _st.broadcast_to(where, shape)
    return where


def _initial_value(x, value, name="initial"):
    """A reduction's ``initial`` (or fill value) as a 0-d array of ``x``'s dtype and
    library: a number, or a 0-d array or tracer (differentiable, as JAX's)."""
    if type(value) in _SCALARS or isinstance(value, _np.generic):
        if type(value) in (float, complex) and _dtype(x).kind in "iu":
            # NumPy's: a Python float truncated toward 0 as int() does (nan, inf raise), and
            # then held to the dtype's range like a Python int (not wrapped around)
            if type(value) is complex:
                raise TypeError(f"{name}={value!r} for an array of {_dtype(x).name}: a complex "
                                f"number has no integer value; pass a real number")
            value = int(value)
        # (an int64 iota: the standard's arange takes no bool dtype, and JAX's refuses it)
        return _st.full_like(_st.reshape(_st.iota(x, 1), ()), value, dtype=_dtype(x))
    value = _as_operand(value)
    if _shape(value) != ():
        raise ShapeError(f"{name} must be a scalar; got an array of shape {_shape(value)}")
    return value if _dtype(value) is _dtype(x) else _st.convert_element_type(value, _dtype(x))


def _fill_outside(x, mask, value):
    """``x`` with ``value`` outside ``mask`` (a select: no derivative reaches those)."""
    if mask is None:
        return x
    return _ew.select_p.bind(mask, x, _st.broadcast_to(_initial_value(x, value), _shape(x)))


def _extreme(red, pair, name, x, axis, keepdims, initial, where):
    """max/min with NumPy's ``initial`` (included in every slice, so an empty slice gives
    it) and ``where`` (which needs ``initial``: an extreme of no elements is undefined)."""
    x = _as_operand(x)
    mask = _where_mask(x, where, name)
    if initial is None:
        if mask is not None:
            raise ValueError(f"{name}: where= needs initial= (the {name}imum of no elements "
                             f"is undefined), as in NumPy")
        return _reduce(red, x, axis, keepdims)
    shape = _shape(x)
    axes = _normalize_axes(axis, len(shape))
    init = _initial_value(x, initial)
    if builtins.any(shape[i] == 0 for i in axes):
        out_shape = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keepdims else \
            tuple(d for i, d in enumerate(shape) if i not in axes)
        return _st.broadcast_to(init, out_shape)
    # Left-out entries are filled with the reduction's identity for floats (-inf for max),
    # not with ``initial``: filled with it they tied with it and took shares of the derivative
    # from the kept entries. Integers carry no derivative, so ``initial`` does there. (For
    # complex numbers the identity is -inf - inf j: -inf + 0j is above -inf - 1j.)
    fill = (-math.inf if red is _red.reduce_max else math.inf) if _is_float_array(x) else init
    if _dtype_of(x).kind == "c":
        fill = complex(fill, fill)
    out = _reduce(red, _fill_outside(x, mask, fill), axis, keepdims)
    return pair(out, _st.broadcast_to(init, _shape(out)))


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """Maximum over ``axis``; ties share the derivative equally. NumPy's ``initial`` (a lower
    bound included in every slice) and ``where`` (a boolean mask of the elements taking part;
    needs ``initial``)."""
    if out is not None:
        _no_out("max", out)
    if type(a) not in _INEXACT_TRACERS and _is_bool_array(a):  # (forward mode's: floats)
        return _bool_extreme(max, a, axis, keepdims, initial, where)
    if initial is None and where is None:
        return _reduce(_red.reduce_max, a, axis, keepdims)
    return _extreme(_red.reduce_max, _ew.max_p.bind, "max", a, axis, keepdims, initial, where)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """Minimum over ``axis``; ties share the derivative equally. NumPy's ``initial`` (an
    upper bound included in every slice) and ``where`` (needs ``initial``)."""
    if out is not None:
        _no_out("min", out)
    if type(a) not in _INEXACT_TRACERS and _is_bool_array(a):  # (forward mode's: floats)
        return _bool_extreme(min, a, axis, keepdims, initial, where)
    if initial is None and where is None:
        return _reduce(_red.reduce_min, a, axis, keepdims)
    return _extreme(_red.reduce_min, _ew.min_p.bind, "min", a, axis, keepdims, initial, where)


def _is_bool_array(x):
    return type(x) not in _SCALARS and hasattr(x, "dtype") and _dtype(x) is _dt.bool_


def _bool_extreme(extreme, x, axis, keepdims, initial, where):
    # NumPy's max/min of booleans (any/all along the axis, with initial and where), through
    # uint8: array-api-strict's max and min refuse booleans
    out = extreme(_st.convert_element_type(x, _dt.uint8), axis, keepdims=keepdims,
                  initial=None if initial is None else int(bool(initial)), where=where)
    return _st.convert_element_type(out, _dt.bool_)


def _count(x, mask, axes, keepdims):
    """The number of elements of each slice taking part (a float of ``x``'s dtype)."""
    return _reduce(_red.reduce_sum, _st.convert_element_type(mask, _dtype(x)), axes, keepdims)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Arithmetic mean over ``axis``; ``dtype`` (NumPy's parameter): the dtype to compute
    and return it in (integers give float64 by default; an integer or bool one sums in it
    and truncates the quotient into it, as NumPy's); ``where``: NumPy's boolean mask of the
    elements taking part (a slice with none gives nan)."""
    if out is not None:
        _no_out("mean", out)
    if dtype is None and where is None and type(a) in _INEXACT_TRACERS:
        # (forward mode's values: floating point, nothing to convert; the general path's
        # checks below without their frames, but for the half types)
        d = a.dtype
        if d is not _dt.float16 and d is not _dt.bfloat16:
            shape = a.shape
            n = 1
            for i in _normalize_axes(axis, len(shape)):
                n *= shape[i]
            return _ew.div_p.bind(_reduce(_red.reduce_sum, a, axis, keepdims), float(n))
    a = _as_operand(a)
    if dtype is not None:
        d = _dt.as_dtype(dtype)
        if d.kind not in "fc":
            from ._statistics import _exact_mean
            return _exact_mean(a, d, axis, keepdims, where)
        if _dtype_of(a) is not d:
            a = _st.convert_element_type(a, d)
    elif not _is_float_array(a):
        a = _st.convert_element_type(a, _dt.float64)
    half = _dtype_of(a)
    if half in _dt.HALF:  # summed in float32 and rounded back, as NumPy's, torch's and JAX's
        out = mean(_st.convert_element_type(a, _dt.float32), axis, keepdims=keepdims,
                   where=where)
        return _st.convert_element_type(out, half)
    shape = _shape(a)
    axes = _normalize_axes(axis, len(shape))
    mask = _where_mask(a, where, "mean")
    if mask is not None:
        total = _reduce(_red.reduce_sum, _fill_outside(a, mask, 0), axes, keepdims)
        return _ew.div(total, _count(a, mask, axes, keepdims))
    n = 1
    for i in axes:  # (a loop: no generator's frame)
        n *= shape[i]
    return _ew.div_p.bind(_reduce(_red.reduce_sum, a, axis, keepdims), float(n))

# -- shapes ------------------------------------------------------------------------------------


def reshape(a, shape, order="C", *, copy=None):
    """Reshape; one dimension may be -1. NumPy's ``order``: ``'C'`` (row-major) or ``'F'``
    (column-major: the axes reversed on both sides of a row-major reshape); ``'A'`` (the
    input's memory order) is not supported, as in JAX: functrans arrays have none."""
    if order != "C":
        if order == "F":
            a = _as_operand(a)
            shape = (shape,) if isinstance(shape, int) else tuple(int(d) for d in shape)
            y = reshape(permute_dims(a, tuple(range(len(_shape(a))))[::-1]), shape[::-1],
                        copy=copy)
            return permute_dims(y, tuple(range(len(shape)))[::-1])
        if order == "A":
            raise NotImplementedError("reshape: order='A' (the input's memory order) is not "
                                      "supported; use 'C' or 'F'")
        raise ValueError(f"reshape: order must be 'C', 'F' or 'A'; got {order!r}")
    a = _as_operand(a)
    shape = (shape,) if isinstance(shape, int) else tuple(int(d) for d in shape)
    size = math.prod(_shape(a))
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        if shape.count(-1) > 1 or known == 0 or size % known:
            raise ShapeError(f"cannot reshape an array of shape {_shape(a)} into {shape}")
        shape = tuple(size // known if d == -1 else d for d in shape)
    if math.prod(shape) != size:
        raise ShapeError(f"cannot reshape an array of size {size} (shape {_shape(a)}) into "
                         f"shape {shape}")
    try:
        return _st.reshape(a, shape)
    except UnsupportedBackendError as e:
        return _typed_keys(e, "reshape", lambda w: _st.reshape(w, shape), (a,))


def broadcast_to(array, shape):
    """Broadcast ``array`` to ``shape`` (NumPy rules)."""
    array = _as_operand(array)
    shape = tuple(shape)
    if broadcast_shapes(_shape(array), shape) != shape:
        raise ShapeError(f"cannot broadcast an array of shape {_shape(array)} to {shape}")
    try:
        return _st.broadcast_to(array, shape)
    except UnsupportedBackendError as e:
        return _typed_keys(e, "broadcast_to", lambda w: _st.broadcast_to(w, shape), (array,))


def broadcast_arrays(*arrays):
    arrays = [_as_operand(a) for a in _numpy_scalars_moved(arrays)]
    shape = broadcast_shapes(*[_shape(a) for a in arrays])
    try:
        return [_st.broadcast_to(a, shape) for a in arrays]
    except UnsupportedBackendError:  # typed keys among them: each on its own
        if not builtins.any(isinstance(getattr(a, "dtype", None), _dt.KeyDType)
                            for a in arrays):
            raise
        return [broadcast_to(a, shape) for a in arrays]


def permute_dims(a, axes=None):
    """Permute the axes of ``a``; without ``axes``, reverse them (NumPy 2's default)."""
    a = _as_operand(a)
    if axes is None:
        axes = range(len(_shape(a)) - 1, -1, -1)
    ndim = len(_shape(a))
    axes = tuple(_normalize_axis(i, ndim) for i in axes)
    if sorted(axes) != list(range(ndim)):
        raise ShapeError(f"axes {axes} is not a permutation of the {ndim} axes")
    try:
        return _st.transpose(a, axes)
    except UnsupportedBackendError as e:
        return _typed_keys(e, "permute_dims", lambda w: _st.transpose(w, axes), (a,))


def matrix_transpose(x, /):
    """Swap the last two axes."""
    x = _as_operand(x)
    if len(_shape(x)) < 2:
        raise ShapeError(f"matrix_transpose needs at least 2 dimensions; got shape {_shape(x)}")
    try:
        return _st.matrix_transpose(x)
    except UnsupportedBackendError as e:
        return _typed_keys(e, "matrix_transpose", _st.matrix_transpose, (x,))


def squeeze(a, axis=None):
    """``a`` without axes of length 1: all of them when ``axis`` is None, else the axes given
    (an int or a tuple; each must have length 1). NumPy's signature; the standard's
    ``squeeze(x, axis)`` calls behave as before."""
    a = _as_operand(a)
    shape = _shape(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(shape) if d == 1)
    else:
        axes = _normalize_axes(axis if not hasattr(axis, "__index__") else operator.index(axis),
                               len(shape))
        for i in axes:
            if shape[i] != 1:
                raise ShapeError(f"squeeze: cannot select an axis to squeeze out which has "
                                 f"size not equal to one (axis {i} of shape {shape})")
    new = tuple(d for i, d in enumerate(shape) if i not in axes)
    try:
        return _st.reshape(a, new)
    except UnsupportedBackendError as e:
        return _typed_keys(e, "squeeze", lambda w: _st.reshape(w, new), (a,))


def expand_dims(a, axis=0):
    """``a`` with axes of length 1 inserted at the positions ``axis`` (an int or a tuple of
    them, as positions in the result; negative ones count from its end). NumPy's signature,
    with the standard's default ``axis=0``."""
    a = _as_operand(a)
    shape = _shape(a)
    axes = (axis,) if hasattr(axis, "__index__") else tuple(axis)
    nd = len(shape) + len(axes)
    axes = [_normalize_axis(operator.index(i), nd) for i in axes]
    if len(set(axes)) != len(axes):
        raise ShapeError(f"expand_dims: repeated axis in {tuple(axes)}")
    it = iter(shape)
    new = tuple(1 if i in axes else next(it) for i in range(nd))
    try:
        return _st.reshape(a, new)
    except UnsupportedBackendError as e:
        return _typed_keys(e, "expand_dims", lambda w: _st.reshape(w, new), (a,))


def concat(arrays, /, *, axis=0):
    """Join arrays along an existing axis (``axis=None`` flattens them first)."""
    arrays = [_as_operand(a) for a in _unstacked(arrays)]
    try:
        arrays, _ = _promote_arrays(arrays)
    except UnsupportedBackendError as e:
        return _typed_keys(e, "concat", lambda *ws: concat(ws, axis=axis), arrays)
    if axis is None:
        arrays = [_st.reshape(a, (math.prod(_shape(a)),)) for a in arrays]
        axis = 0
    ndim = len(_shape(arrays[0]))
    axis = _normalize_axis(axis, ndim)
    for a in arrays[1:]:
        sa, s0 = _shape(a), _shape(arrays[0])
        if len(sa) != ndim or sa[:axis] + sa[axis + 1:] != s0[:axis] + s0[axis + 1:]:
            raise ShapeError(f"concat: shapes {s0} and {sa} differ outside axis {axis}")
    if len(arrays) == 1:
        return arrays[0]
    return _st.concat(arrays, axis)


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join arrays along a new axis (NumPy's ``dtype`` and ``casting``: as
    ``concatenate``'s). ``axis`` may be given by position, as NumPy and jax.numpy take it;
    ``out=`` is not supported (arrays are not written in place)."""
    if out is not None:
        raise NotImplementedError("stack: out= is not supported (arrays are not written in "
                                  "place); use the returned array")
    arrays = _unstacked(arrays)
    if any(type(a) in _NUMPY_SCALARS for a in arrays):
        arrays = _numpy_scalars_beside(*arrays)
    arrays = [_as_operand(a) for a in arrays]
    if dtype is not None or casting != "same_kind":
        from ._reshaping import _join_cast
        arrays = _join_cast(arrays, dtype, casting, "stack")
    ndim = len(_shape(arrays[0]))
    axis = _normalize_axis(axis, ndim + 1)
    return concat([expand_dims(a, axis=axis) for a in arrays], axis=axis)


def flip(m, axis=None):
    """Reverse the order of elements along ``axis`` (all axes by default)."""
    m = _as_operand(m)
    axes = _normalize_axes(axis, len(_shape(m)))
    if not axes and axis is not None and not _shape(m):
        for a in (axis,) if isinstance(axis, (int, _np.integer)) else axis:
            _normalize_axis(a, 0)  # a 0-d array has no axis 0 or -1 to flip: NumPy's AxisError
    try:
        return _st.flip(m, axes) if axes else m
    except UnsupportedBackendError as e:
        return _typed_keys(e, "flip", lambda w: _st.flip(w, axes), (m,))


def matmul(a, b, *, precision=None, preferred_element_type=None, out=None):
    """Matrix product with the Array API's rules for 1-D operands and batch broadcasting.
    ``jax.numpy``'s ``precision`` (accepted, no effect) and ``preferred_element_type`` (the
    result's dtype, computed in it where that loses nothing) are accepted; NumPy's ``out``
    only as None."""
    if precision is not None or preferred_element_type is not None or out is not None:
        _no_out("matmul", out)
        from ._products import _jax_options
        from ._products import _to_preferred
        (a, b), convert_to = _jax_options("matmul", [a, b], precision,
                                          preferred_element_type)
        if convert_to is not None:
            return _to_preferred(matmul(a, b), convert_to)
    if type(a) in _SEQUENCES or type(b) in _SEQUENCES:
        a, b = _as_operand(a), _as_operand(b)
    if type(a) not in _SCALARS and type(b) not in _SCALARS:
        # The common case, two matrices of one dtype: nothing to promote, reshape or
        # broadcast, so straight to the primitive (which checks the contracted sizes).
        try:
            s1, s2 = a.shape, b.shape
        except AttributeError as e:
            _not_array(e, a, b)
        if (len(s1) == 2 and len(s2) == 2 and s1[1] == s2[0]
                and _dtype_of(a) is _dtype_of(b)):
            return _la.matmul(a, b)
    a, b = _as_operand(a), _as_operand(b)
    s1, s2 = _shape(a), _shape(b)
    if not s1 or not s2:  # (before promotion: its error would hide this one)
        raise ShapeError(f"matmul does not accept 0-d operands (shapes {s1} and {s2}); use "
                         f"multiply")
    (a, b), _ = _promote_arrays((a, b))
    v1, v2 = len(s1) == 1, len(s2) == 1
    if v1:
        a, s1 = _st.reshape(a, (1,) + s1), (1,) + s1
    if v2:
        b, s2 = _st.reshape(b, s2 + (1,)), s2 + (1,)
    if s1[-1] != s2[-2]:
        raise ShapeError(f"matmul: contracted dimensions differ: {s1[-1]} (last axis of the "
                         f"first operand, shape {s1}) vs {s2[-2]} (shape {s2})")
    batch = broadcast_shapes(s1[:-2], s2[:-2])
    a = _st.broadcast_to(a, batch + s1[-2:])
    b = _st.broadcast_to(b, batch + s2[-2:])
    out = _la.matmul(a, b)
    if v1 or v2:
        shape = batch + (() if v1 else (s1[-2],)) + (() if v2 else (s2[-1],))
        out = _st.reshape(out, shape)
    return out

# -- indexing ------------------------------------------------------------------------------------


def _getitem(x, key):
    """Basic indexing (integers, slices with any step, None, Ellipsis) on tracers."""
    idx, out_shape = _basic_index(_shape(x), key, like=x)
    if any(t != (0, d, 1) for t, d in zip(idx, _shape(x))):
        x = _st.slice_(x, idx)
    return _st.reshape(x, out_shape)


def _basic_index(shape, key, like=None):
    """A basic index as ``(start, stop, step)`` per axis of ``shape`` and the shape of the
    result (integers drop their axis, ``None`` adds one). An integer out of range raises,
    unless ``like`` (the indexed array) is given and a checkify with index_checks runs: that
    records it, and the index is clamped into range, as JAX's checkify reads it."""
    if not isinstance(key, tuple):
        key = (key,)
    n_real = builtins.sum(1 for k in key if k is not None and k is not Ellipsis)
    if builtins.sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if n_real > len(shape):
        raise IndexError(f"too many indices for an array of shape {shape}")
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded.extend([slice(None)] * (len(shape) - n_real))
        else:
            expanded.append(k)
    if Ellipsis not in key:
        expanded.extend([slice(None)] * (len(shape) - n_real))
    idx, out_shape, axis = [], [], 0
    for k in expanded:
        if k is None:
            out_shape.append(1)
            continue
        n = shape[axis]
        if isinstance(k, slice):
            start, stop, step = k.indices(n)
            idx.append((start, stop, step))
            out_shape.append(len(range(start, stop, step)))
        elif isinstance(k, int) or (hasattr(k, "__index__") and not hasattr(k, "shape")):
            i = int(k)
            if not -n <= i < n:
                checkify = sys.modules.get("functrans.experimental.checkify")
                if not (n and like is not None and checkify is not None
                        and checkify.index_checks_running()):
                    raise IndexError(f"index {i} is out of bounds for axis {axis} with size "
                                     f"{n}")
                checkify.index_bounds_check("gather", shape, i, n, axis, like)
                i = builtins.min(builtins.max(i, -n), n - 1)
            i %= n
            idx.append((i, i + 1, 1))
        else:
            raise IndexError(
                f"functrans supports basic indexing (integers, slices, None, ...) here; got "
                f"{type(k).__name__}. Integer-array and boolean-mask indexing come with "
                f"take/take_along_axis.")
        axis += 1
    return tuple(idx), tuple(out_shape)

# -- dtypes and creation -----------------------------------------------------------------------


def astype(x, dtype, /, *, copy=True, device=None):
    """Cast to ``dtype`` (a functrans dtype, a name or a native dtype)."""
    try:
        d = _dt.as_dtype(dtype)
        x = _as_operand(x)
        if _dtype(x) is d:
            return x
    except TypeError:  # (UnsupportedBackendError too) typed keys: only to their own dtype
        kd = getattr(x, "dtype", None)
        if not isinstance(dtype, _dt.KeyDType) and not isinstance(kd, _dt.KeyDType):
            raise
        if kd is not dtype:
            raise TypeError(f"astype: typed keys (dtype key<fry>) cannot be cast from or to "
                            f"other dtypes (got {kd} to {dtype!r}); functrans.random.key_data "
                            f"and wrap_key_data convert them to and from uint32 data") from None
        return x
    return _st.convert_element_type(x, d)


def asarray(obj, /, *, dtype=None, device=None, copy=None):
    """An array from ``obj``: arrays and tracers are returned as they are (cast to ``dtype``
    if given, a new object if ``copy``); Python scalars and sequences become arrays of the
    default backend."""
    if isinstance(obj, Tracer):
        if device is not None:
            obj = obj.to_device(device)  # itself where it is; moving one is refused
        if dtype is not None and _dtype(obj) is not _dt.as_dtype(dtype):
            if copy is False:
                _copy_needed("a change of dtype")
            return astype(obj, dtype)
        # A copy is a new tracer object (tracers share no memory: see Tracer.__setitem__).
        return obj.__copy__() if copy else obj
    if type(obj) in _SCALARS or isinstance(obj, (list, tuple)):
        if copy is False:
            _copy_needed("a Python scalar or sequence")
        if dtype is None and _contains_float(obj):
            dtype = _dt.float64
        if device is None:
            b, device = _data_place(obj)
            return _user_data(b.asarray(obj, dtype=dtype, device=device), obj)
        return (_backend_of_device(device) or _default_backend()).asarray(
            obj, dtype=dtype, device=device)
    try:
        b = backend_of(obj)
    except UnsupportedBackendError:
        for t in (bool, int, float, complex):  # a subclass (an IntEnum member): its value
            if isinstance(obj, t):
                return asarray(t(obj), dtype=dtype, device=device, copy=copy)
        if not isinstance(getattr(obj, "dtype", None), _dt.KeyDType):
            raise
        if dtype is not None and dtype is not obj.dtype:
            raise TypeError(f"asarray: typed keys (dtype key<fry>) cannot be cast to "
                            f"{dtype!r}; functrans.random.key_data gives their uint32 data")
        if device is not None and device != obj.device:
            raise BackendMismatchError(f"asarray: typed keys on device {obj.device!r} cannot "
                                       f"be moved to {device!r} implicitly")
        return obj.copy() if copy else obj
    if device is not None:
        db = _backend_of_device(device)
        if db is not None and db is not b:
            raise BackendMismatchError(
                f"asarray: the array is a {b.name} array and device {device!r} belongs to "
                f"{db.name}; functrans never copies between libraries implicitly. Convert "
                f"it with {db.name}'s own asarray (or from_dlpack) first.")
        if device == b.device(obj):
            device = None  # where it is already
    # (a NumPy scalar, np.float64(2.5), becomes a 0-d array as with numpy.asarray)
    keep = (dtype is None and device is None
            and not (b.name == "numpy" and type(obj) is not _np.ndarray))
    if copy is False and not keep and (device is not None or _dtype(obj) is not _dt.as_dtype(
            dtype if dtype is not None else _dtype(obj))):
        _copy_needed("a change of dtype" if device is None else "a move to another device")
    out = obj if keep else b.asarray(obj, dtype=dtype, device=device)
    return b.copy(out) if copy and out is obj else out


def _copy_needed(why):
    # (the standard's and NumPy's asarray: copy=False never copies, and says so)
    raise ValueError(f"asarray: copy=False, but making this array needs a copy ({why}); "
                     f"pass copy=None to copy only where needed")


def _contains_float(obj):
    if isinstance(obj, (list, tuple)):
        return builtins.any(_contains_float(o) for o in obj)
    return type(obj) is float


def device(x, /):
    """The device of ``x`` (for a tracer, of the concrete value behind it)."""
    x = _concrete_value(x)
    if x is None:
        return _default_backend().device(_default_backend().xp.asarray(0.0))
    return backend_of(x).device(x)


def _creation_place():
    """``(backend, device)`` for an array created without a device (a creation function, a
    Python number or list made an array): inside a transform, the library and device of the
    values it transforms, so that code creating constants (``xp.asarray(0.5)``, ``xp.zeros``)
    runs unchanged on torch, CuPy or array-api-strict inputs, as it does outside; else the
    default backend (device None: the library's default)."""
    interp = _current.get().interp
    while interp is not None and interp is not _EVAL:
        src = getattr(interp, "device_source", None)  # forward mode, linearize, staging
        if src is None:
            src = getattr(interp, "like", None)  # vmap: a mapped argument
        if src is not None:
            c = _concrete_value(src)
            if c is not None:
                return _place_of(c)
        interp = interp.parent
    like = CALL_PLACE.get()
    if like is not None:
        return _place_of(like)
    return _default_backend(), None


# An array of the call that a derivative with nothing to follow makes its function's
# constants beside (grad(f, argnums=2)(x, 0.3, None): no differentiated leaf, so no
# device_source; JAX-style code creating constants must still meet x's library there as it
# does eagerly and with any other argnums). Set by api._split_args only in that case.
CALL_PLACE = contextvars.ContextVar("functrans_call_place", default=None)


def _place_of(c):
    """``(backend, device)`` of the concrete array ``c`` (device None for NumPy's, which has
    one)."""
    b = backend_of(c)
    return b, (b.device(c) if b.name != "numpy" else None)


def _concrete_value(x):
    """The concrete array behind ``x`` through any tracers (for a staged value, one of the
    inputs being staged), or None where there is none (a Python number)."""
    while isinstance(x, Tracer):
        nxt = getattr(x, "primal", None)  # a JVP tracer's value; a batch tracer's values
        if nxt is None:
            nxt = getattr(x, "val", None)
        if nxt is None:  # a staged value: the inputs being staged
            nxt = getattr(x._interp, "device_source", None)
        x = nxt
    return None if x is None or type(x) in _SCALARS else x


def _stop_leaf(leaf):
    if callable(leaf) and not hasattr(leaf, "shape"):
        raise TypeError(
            f"stop_gradient takes arrays or pytrees of arrays, not the function {leaf!r}; "
            "stop the derivative of its result instead: stop_gradient(f(x))")
    return _st.stop_gradient_p.bind(_as_operand(leaf))


def stop_gradient(x):
    """``x`` itself, with a zero derivative under every transform (also nested ones); a
    pytree of arrays is stopped leaf by leaf."""
    if not (isinstance(x, Tracer) or type(x) in _SCALARS or hasattr(x, "shape")):
        from ..tree import tree_map
        return tree_map(_stop_leaf, x)
    return _st.stop_gradient_p.bind(_as_operand(x))


__all__ = [n for n, v in list(globals().items())
           if callable(v) and getattr(v, "__module__", None) == __name__ and n[0] != "_"]
__all__ += ["broadcast_shapes"]

from . import _promotion  # noqa: E402  (the promotion modes' checks)
