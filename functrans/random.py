"""``functrans.random``: counter-based random numbers from explicit keys, with ``jax.random``'s
names, signatures and bits, on every backend and under every transform.

A key is a typed key from :func:`key` (a :class:`KeyArray` of dtype ``key<fry>``, as
``jax.random.key``'s) or a raw one from :func:`PRNGKey` (a ``uint32`` array of shape
``(2,)``, JAX's legacy form); both hold the same two 32-bit words and give the same numbers.
Nothing is stateful: the same key always gives the same numbers, so a function that draws
from a key it takes as an argument can be staged by :func:`functrans.jit` (another key gives
other numbers without restaging) and mapped by :func:`functrans.vmap` over a batch of keys
from :func:`split`. Samples are computed with ``functrans.numpy`` from the key's bits, so
reparameterised samples (``uniform``'s bounds, ``truncated_normal``'s, ``multivariate_normal``'s
mean and covariance, ``mu + sigma * normal(key)``) are differentiable in their parameters.

The bits are JAX's: the Threefry-2x32 block cipher (20 rounds; Salmon et al., "Parallel
random numbers: as easy as 1, 2, 3", SC 2011) applied to a 64-bit counter per element, as JAX
does with ``jax_threefry_partitionable`` on (its default since JAX 0.5). ``key``, ``split``,
``fold_in``, ``bits``, ``uniform``, ``randint``, ``bernoulli``, ``rademacher``,
``permutation``, ``choice`` and ``categorical`` give JAX's values exactly (with
``jax_enable_x64``, whose defaults ``float64``/``int64``/``uint64`` are ours too); the
samplers built on transcendental functions (``normal``, ``gumbel``...) apply the same
transforms to the same uniforms and agree to rounding (JAX's own float64 ``erf_inv``/``log1p``
on CPU are tens of ulp off), except ``truncated_normal`` in a tail, where JAX's transform
loses every digit and ours does not.

The cipher's 32-bit words are native ``uint32`` arrays on NumPy, array-api-strict and CuPy, and
``int64`` arrays holding 32-bit values on PyTorch (which has no ``uint32`` addition or shifts),
chosen per call from the key's backend; the bits are the same. On a concrete (not traced) key
the cipher runs in place on the library's own arrays, on NumPy and PyTorch block by block in
the CPU's cache; traced (``jit``, ``vmap``), it is ``functrans.numpy`` operations.

The rejection samplers (``gamma``, ``loggamma``, ``beta``, ``dirichlet``, ``chisquare``,
``t``, ``f``, ``generalized_normal``, ``ball``, ``poisson``, ``binomial``, ``multinomial``)
have JAX's signatures and methods (Marsaglia-Tsang; Knuth and PTRS for Poisson; waiting
times and BTRS for binomial) but not its values: their loops are vectorised
(every element draws a candidate per round from ``fold_in(key, round)`` until all are
accepted, with :func:`functrans.lax.while_loop`), where JAX's run per element on other keys.

Every sampler of floats takes ``dtype=float16`` and ``bfloat16`` (bfloat16 on a library that
has it: PyTorch), as JAX's: from JAX's 16-bit and 8-bit uniforms (``uniform``, ``exponential``,
``laplace``, ``bernoulli``: JAX's bits), each transform computed
in float64 and rounded once (JAX's round every step to the half type, so that its values
differ in the last bits, a few ulp in places); the rejection samplers, and those built on
them, draw in float32 and round; ``multivariate_normal`` and ``orthogonal`` (which JAX does
not draw in half types) factorise in float64 and round.
"""

from __future__ import annotations

import functools
import math
import operator

import numpy as _np

from . import dtypes as _dt
from . import numpy as fnp
from . import tree as _tree
from .numpy import _keys as _keys_mechanism
from .backends import backend_of as _backend_of
from .core import Tracer as _Tracer
from .primitives.structural import iota as _iota
from .primitives.special import gammainc_da as _gammainc_da
from .scipy import special as _sp

__all__ = ["key", "PRNGKey", "split", "fold_in", "bits", "key_data", "uniform", "normal",
           "truncated_normal", "bernoulli", "randint", "choice", "permutation", "categorical",
           "gumbel", "exponential", "laplace", "logistic", "multivariate_normal",
           "rademacher", "gamma", "loggamma", "beta", "dirichlet", "chisquare", "t",
           "cauchy", "generalized_normal", "ball", "orthogonal", "poisson", "binomial",
           "multinomial", "geometric", "lognormal", "pareto", "rayleigh", "maxwell",
           "double_sided_maxwell", "weibull_min", "wald", "f", "triangular", "clone",
           "key_impl", "key_dtype", "wrap_key_data", "KeyArray"]

_add, _sub, _mul = fnp.add, fnp.subtract, fnp.multiply
_M32 = 0xFFFFFFFF
_MIN64 = -(2 ** 63)
_PARITY = 0x1BD11BDA  # Threefry's key-schedule constant
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_IMPL = "threefry2x32"  # the only random number generator


# -- words: unsigned 32-bit values, native or held in int64 -----------------------------------
#
# The cipher is written once over a *word arithmetic*, chosen per call from the key's backend:
# ``_U32`` computes on native ``uint32`` arrays (wrapping addition, shifts and rotations as
# they are: NumPy, array-api-strict, CuPy), ``_I64`` on ``int64`` arrays holding the 32-bit
# values (PyTorch, which has no ``uint32`` addition or shifts, and any backend not known to
# have them). Both give the same bits; the native one is 3-4x faster (half the memory
# traffic, no masks).


class _U32:
    """Words as native ``uint32`` arrays."""

    dtype = _dt.uint32

    @staticmethod
    def rotl(x, r):
        return fnp.bitwise_or(fnp.bitwise_left_shift(x, r), fnp.bitwise_right_shift(x, 32 - r))

    @staticmethod
    def low(x):  # the 32-bit value of a word
        return x

    @staticmethod
    def from_i64(x):  # int64 values in [0, 2**32) as words
        return fnp.astype(x, fnp.uint32)


class _I64:
    """Words as ``int64`` arrays whose low 32 bits are the value; additions and xors leave
    garbage above bit 31 (int64 wraps harmlessly) until a rotation or :meth:`low` masks it."""

    dtype = _dt.int64

    @staticmethod
    def rotl(x, r):
        x = _u32(x)
        return fnp.bitwise_or(fnp.bitwise_left_shift(x, r), fnp.bitwise_right_shift(x, 32 - r))

    low = staticmethod(lambda x: _u32(x))
    from_i64 = staticmethod(lambda x: x)


_NATIVE_U32 = frozenset({"numpy", "array_api_strict", "cupy"})


def _arith(k):
    """The word arithmetic for the backend of the key ``k`` (possibly traced)."""
    from .numpy._base import _concrete_value
    c = _concrete_value(k)
    return _U32 if c is not None and _backend_of(c).name in _NATIVE_U32 else _I64


def _u32(x):
    return fnp.bitwise_and(x, _M32)


def _threefry2x32(w, k0, k1, x0, x1):
    """Threefry-2x32 (20 rounds) of the counter words ``(x0, x1)`` under the key words
    ``(k0, k1)``, in the word arithmetic ``w``; broadcasting. Returns two words (values)."""
    ks = (k0, k1, fnp.bitwise_xor(fnp.bitwise_xor(k0, k1), _PARITY))
    x0 = _add(x0, k0)
    x1 = _add(x1, k1)
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = _add(x0, x1)
            x1 = fnp.bitwise_xor(w.rotl(x1, r), x0)
        x0 = _add(x0, ks[(i + 1) % 3])
        x1 = _add(x1, _add(ks[(i + 2) % 3], i + 1))
    return w.low(x0), w.low(x1)


def _name_shape(shape, name):
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    try:  # (index(): a float such as 2.5 is refused, as JAX, rather than truncated)
        shape = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"functrans.random.{name}: shape must be an int or a sequence of "
                        f"ints; got {shape!r}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"functrans.random.{name}: shape must not be negative; got {shape}")
    return shape


def _key_words(k, name):
    """The two key words of ``k`` (0-d int64 arrays), after checking it is a key."""
    _check_key(k, name)
    w = fnp.astype(k, fnp.int64)
    return w[0], w[1]


def _check_key(k, name):
    """A clear error unless ``k`` is a raw key (a uint32 array of shape (2,))."""
    if type(k) in (int, float, bool) or not hasattr(k, "shape"):
        raise TypeError(f"functrans.random.{name}: a key is a uint32 array of shape (2,) "
                        f"(from functrans.random.PRNGKey(seed)) or a typed key (from "
                        f"functrans.random.key(seed)); got {type(k).__name__}")
    if _dt.as_dtype(k.dtype, strict=False) is not _dt.uint32:
        raise TypeError(f"functrans.random.{name}: a key is a uint32 array of shape (2,) "
                        f"(from functrans.random.PRNGKey(seed)) or a typed key (from "
                        f"functrans.random.key(seed)); got dtype {k.dtype}")
    if tuple(k.shape) != (2,):
        extra = (": map over a batch of keys with functrans.vmap"
                 if len(k.shape) > 1 and k.shape[-1] == 2 else "")
        raise ValueError(f"functrans.random.{name}: a raw key is a uint32 array of shape "
                         f"(2,); got shape {tuple(k.shape)}{extra}")


def _words(k, name):
    """The word arithmetic for ``k`` and its two key words in it."""
    _check_key(k, name)
    w = _arith(k)
    kw = fnp.astype(k, w.dtype)
    return w, kw[0], kw[1]


def _counters(w, like, shape):
    """The flat index of every element of ``shape`` as (high, low) words; the high word is
    a 0-d zero (broadcasting) below ``2**32`` elements."""
    n = math.prod(shape)
    if n <= 2 ** 32:
        return fnp.zeros_like(like), fnp.reshape(_iota(like, n, w.dtype), shape)
    i = _iota(like, n)
    hi, lo = fnp.bitwise_right_shift(i, 32), _u32(i)
    return (fnp.reshape(w.from_i64(hi), shape), fnp.reshape(w.from_i64(lo), shape))


def _blocks(k, shape, name):
    """The two output words of the cipher for every element of ``shape`` (in the key's word
    arithmetic: ``uint32``, or ``int64`` values in [0, 2**32))."""
    w, k0, k1 = _words(k, name)
    n = math.prod(shape)
    if not isinstance(k, _Tracer) and n <= 2 ** 32:
        b = _backend_of(k)
        if b.name in _IN_PLACE:
            x0, x1 = _threefry_in_place(b, w, int(k0), int(k1), n, k)
            return b.xp.reshape(x0, shape), b.xp.reshape(x1, shape)
    hi, lo = _counters(w, k0, shape)
    return _threefry2x32(w, k0, k1, hi, lo)


_IN_PLACE = frozenset({"numpy", "array_api_strict", "cupy", "torch"})


def _threefry_in_place(b, w, k0, k1, n, like, finish=None):
    """:func:`_threefry2x32` of the counters ``0 .. n - 1`` (high words 0) under the Python
    int key words ``k0, k1``, on a concrete key of backend ``b``: the same operations on the
    library's own arrays, updated in place (no array allocated per operation: eagerly, that
    is most of the time on large sizes), and on NumPy and PyTorch one cache-sized block after
    another (the 100-odd passes of the 20 rounds then stay in the CPU's cache). Returns the
    two output words, flat; ``finish(x0, x1, start, stop)``, if given, is called on each
    block's words while they are in the cache (NumPy and PyTorch only)."""
    xp, u32 = b.xp, w is _U32
    ks = (k0, k1, k0 ^ k1 ^ _PARITY)
    x1 = xp.arange(n, dtype=b.native_dtype(w.dtype), device=b.device(like))
    x0 = xp.empty_like(x1)
    if b.name == "numpy":
        shr = _np.right_shift
    elif b.name == "cupy":
        shr = getattr(_import(b.name), "right_shift")
    else:
        shr = None
    block = _BLOCK if b.name in _BLOCKED else max(n, 1)
    t = xp.empty_like(x1[:block]) if shr is not None else None
    for s in range(0, n, block):
        e = min(n, s + block)
        _rounds(x0[s:e], x1[s:e], None if t is None else t[:e - s], shr, ks, u32)
        if finish is not None:
            finish(x0[s:e], x1[s:e], s, e)
    return x0, x1


_BLOCKED = frozenset({"numpy", "torch"})  # backends whose cipher runs block by block
_BLOCK = 2 ** 15  # words per block: 128 kB of uint32 (and under PyTorch's grain size)


def _import(name):
    import importlib
    return importlib.import_module(name)


def _rounds(x0, x1, t, shr, ks, u32):
    """The 20 rounds in place on one block: ``x1`` holds the low counters, ``x0`` is
    overwritten (the high counters are 0); ``shr(x, r, out=t)`` where the library has it."""
    x1 += ks[1]
    x0[...] = x1
    x0 += ks[0]  # the first round's x0 + x1, x0 being the key word (high counter 0)
    first = True
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            if first:
                first = False
            else:
                x0 += x1
            if not u32:
                x1 &= _M32
            if shr is not None:
                shr(x1, 32 - r, out=t)
            else:
                t = x1 >> (32 - r)
            x1 <<= r
            x1 |= t
            x1 ^= x0
        x0 += ks[(i + 1) % 3]
        x1 += (ks[(i + 2) % 3] + i + 1) & _M32
    if not u32:
        x0 &= _M32
        x1 &= _M32


def _to_key(w0, w1):
    return fnp.astype(fnp.stack([w0, w1], axis=-1), fnp.uint32)


# -- typed keys -------------------------------------------------------------------------------
#
# A typed key array (JAX's ``key<fry>`` arrays) holds the two 32-bit words of every key as two
# ``uint32`` arrays of the key array's own shape. It is a pytree node whose children are those
# two words: the transforms (``vmap``, ``jit``, ``scan``, ``grad``'s argnums...) see two
# ``uint32`` arrays shaped as the keys, so that ``in_axes``/``out_axes`` (negative ones too)
# count the keys' axes, as JAX's; in JAX a key array is one leaf.


def _key_type_error(what):
    return TypeError(f"{what} does not accept dtype key<fry>: typed keys have no arithmetic, "
                     f"comparisons other than == and !=, or conversions; "
                     f"functrans.random.key_data(keys) gives their uint32 data")


class KeyArray:
    """An array of typed random keys (dtype ``key<fry>``, from :func:`key`, :func:`split`,
    :func:`wrap_key_data`), as JAX's key arrays: shape, indexing, iteration, reshaping and
    ``==``, but no arithmetic and no conversion to a NumPy array (:func:`key_data` gives the
    ``uint32`` data, of shape ``keys.shape + (2,)``).

    Differences from JAX's: it is a pytree node whose two children are the keys' ``uint32``
    words (each of the keys' shape), not a leaf, so that the transforms see through it
    (``functrans.tree.tree_leaves(key)`` gives the two words; a function mapped over leaves by
    ``tree_map`` gets them).

    As in JAX, the functions of ``functrans.numpy`` and ``functrans.lax`` that only move,
    copy or select elements take key arrays and give key arrays (``reshape``, ``transpose``,
    ``take``, ``roll``, ``tile``, ``split``, ``stack``, ``where``, ``pad`` by copying,
    ``zeros_like``, ``lax.dynamic_slice``, ``lax.dynamic_update_slice``, ``lax.select_n``,
    ``lax.gather``, ``keys.at[i].set(k)``..., listed in ``functrans/numpy/_keys.py`` and the
    docs), with traced indices too: each gives the keys whose data are its result on each of
    the two words. ``==``, ``equal``, ``array_equal``, ``isin`` compare keys. Every other
    function (arithmetic, order, reductions, casts to numbers, keys beside numbers or as
    indices) refuses keys with a TypeError naming it, as JAX's."""

    __slots__ = ("_w0", "_w1")
    _typed_keys = True  # (a backend look-up on one refuses it by name: see backends)
    __array_ufunc__ = None  # NumPy's operators and ufuncs defer to the errors below

    def __init__(self, w0, w1):
        # (no checks: pytree machinery rebuilds nodes from arbitrary leaves)
        self._w0, self._w1 = w0, w1

    def _map(self, f):
        return KeyArray(f(self._w0), f(self._w1))

    @property
    def shape(self):
        return tuple(self._w0.shape)

    @property
    def dtype(self):
        return _dt.key_fry

    @property
    def ndim(self):
        return len(self._w0.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def itemsize(self):
        return 8

    @property
    def nbytes(self):
        return 8 * self.size

    @property
    def device(self):
        return fnp.device(self._w0)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object (a 0-d key array)")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d key array")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, index):
        parts = index if isinstance(index, tuple) else (index,)
        if not any(isinstance(k, _Tracer) for k in parts):
            try:  # the library's own indexing: the common case
                return self._map(lambda w: w[index])
            except (IndexError, TypeError):
                pass  # (array-api-strict wants every axis indexed: keys[0] of a 2-d array)
        # a traced index (keys[i] under vmap or jit), or one the library refuses: functrans's
        # NumPy-style indexing, which takes tracers and partial indices on every library
        from .numpy._indexing import _getitem
        return self._map(lambda w: _getitem(w, index))

    def reshape(self, *shape, order="C"):
        if order != "C":
            raise NotImplementedError("KeyArray.reshape: only order='C' is supported")
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return self._map(lambda w: fnp.reshape(w, tuple(shape)))

    def ravel(self):
        return self.reshape(-1)

    flatten = ravel

    def squeeze(self, axis=None):
        return self._map(lambda w: fnp.squeeze(w, axis=axis) if axis is not None
                         else fnp.reshape(w, tuple(d for d in w.shape if d != 1)))

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        axes = tuple(reversed(range(self.ndim))) if not axes else tuple(axes)
        return self._map(lambda w: fnp.permute_dims(w, axes))

    @property
    def T(self):
        return self.transpose()

    def swapaxes(self, axis1, axis2):
        return self._map(lambda w: fnp.swapaxes(w, axis1, axis2))

    def take(self, indices, axis=None):
        return self._map(lambda w: fnp.take(w, indices, axis=axis))

    def copy(self):
        return self._map(fnp.asarray)

    @property
    def at(self):
        """``keys.at[idx].set(new_keys)`` and ``.get()``, as JAX's; the other updates
        (``add``, ``min``...) are arithmetic, refused."""
        return _KeyAt(self)

    def __eq__(self, other):
        if not isinstance(other, KeyArray):
            raise _key_type_error("== between a key array and another type")
        return fnp.logical_and(fnp.equal(self._w0, other._w0), fnp.equal(self._w1, other._w1))

    def __ne__(self, other):
        if not isinstance(other, KeyArray):
            raise _key_type_error("!= between a key array and another type")
        return fnp.logical_or(fnp.not_equal(self._w0, other._w0),
                              fnp.not_equal(self._w1, other._w1))

    __hash__ = None  # (unhashable, as arrays)

    def __bool__(self):
        raise TypeError("a key array cannot be converted to a boolean")

    def __array__(self, dtype=None, copy=None):
        raise TypeError("a key array (dtype key<fry>) cannot be converted to a NumPy array; "
                        "functrans.random.key_data(keys) gives its uint32 data")

    def astype(self, dtype, *args, **kwargs):
        raise _key_type_error("astype")

    def __repr__(self):
        try:
            data = key_data(self)
            shown = (repr(data) if isinstance(data, _Tracer)
                     else str(_np.asarray(_backend_of(data).to_numpy(data))))
        except Exception:  # (a node rebuilt by pytree machinery from other leaves)
            return f"KeyArray({self._w0!r}, {self._w1!r})"
        return f"Array({self.shape}, dtype=key<fry>) overlaying:\n{shown}"

    __str__ = __repr__


class _KeyAt:
    __slots__ = ("keys",)

    def __init__(self, keys):
        self.keys = keys

    def __getitem__(self, idx):
        return _KeyIndexUpdate(self.keys, idx)


class _KeyIndexUpdate:
    """``keys.at[idx]``: ``get`` and ``set`` applied to both words (jax.numpy's modes)."""

    __slots__ = ("keys", "idx")

    def __init__(self, keys, idx):
        self.keys, self.idx = keys, idx

    def _update(self, w):
        from .array_methods import _IndexUpdate
        return _IndexUpdate(w, self.idx)

    def _index_parts(self):
        return self.idx if isinstance(self.idx, tuple) else (self.idx,)

    def get(self, **kwargs):
        return _on_words("keys.at[...].get", lambda w: self._update(w).get(**kwargs),
                         (self.keys,), self._index_parts())

    def set(self, values, **kwargs):
        return _on_words("keys.at[...].set", lambda w, v: self._update(w).set(v, **kwargs),
                         (self.keys, values), self._index_parts())

    def __getattr__(self, name):
        if name in ("add", "subtract", "multiply", "mul", "divide", "power", "min", "max",
                    "apply"):
            raise _key_type_error(f"keys.at[...].{name}")
        raise AttributeError(f"keys.at[...] has no attribute {name!r}")


def _refuse(what):
    def method(self, *args):
        raise _key_type_error(what)
    return method


for _op, _what in (("add", "+"), ("sub", "-"), ("mul", "*"), ("matmul", "@"),
                   ("truediv", "/"), ("floordiv", "//"), ("mod", "%"), ("divmod", "divmod"),
                   ("pow", "**"), ("and", "&"), ("or", "|"), ("xor", "^"), ("lshift", "<<"),
                   ("rshift", ">>")):
    setattr(KeyArray, f"__{_op}__", _refuse(_what))
    setattr(KeyArray, f"__r{_op}__", _refuse(_what))
for _op, _what in (("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="), ("neg", "-"),
                   ("pos", "+"), ("abs", "abs"), ("invert", "~"), ("float", "float()"),
                   ("int", "int()"), ("index", "index()"), ("complex", "complex()")):
    setattr(KeyArray, f"__{_op}__", _refuse(_what))
del _op, _what


_tree.register_pytree_node(KeyArray, lambda k: ((k._w0, k._w1), _IMPL),
                           lambda _, words: KeyArray(*words))
_keys_mechanism.KeyArray = KeyArray  # (the wrapper of the structural functions knows it)


def _on_words(name, fn, keys, others=()):
    """``fn`` applied to the first words of the typed key arrays ``keys``, then to their
    second words, as one key array (or a list of them where ``fn`` gives a list): how
    ``functrans.numpy``'s structural functions (``stack``, ``where``, ``reshape``...) take
    keys. ``others`` are operands that are no keys (a ``where``'s condition); a key among
    them, or a non-key among ``keys``, is refused, as JAX refuses mixing keys with numbers."""
    for k in keys:
        if type(k) is not KeyArray:
            d = getattr(k, "dtype", type(k).__name__)
            raise TypeError(f"{_who(name)}: cannot combine typed keys (dtype "
                            f"key<fry>) with values of dtype {d}; functrans.random."
                            f"wrap_key_data makes keys of uint32 data")
        _check_typed(k, name)
    for o in others:
        if type(o) is KeyArray:
            raise _key_type_error(f"{_who(name)}'s condition or index")
    wide = bool(keys) and _arith(keys[0]._w0) is _I64
    out0 = _narrow(fn(*[_widen(k._w0, wide) for k in keys]), wide)
    out1 = _narrow(fn(*[_widen(k._w1, wide) for k in keys]), wide)
    if isinstance(out0, (list, tuple)):
        return type(out0)(KeyArray(a, b) for a, b in zip(out0, out1))
    return KeyArray(out0, out1)


def _who(name):
    """The function the user called, for a message (``stack``, not the ``concat`` it calls);
    else functrans.numpy's ``name``."""
    from .backends import _called_function
    found = _called_function()
    if found != "this operation":
        return found
    return name if "." in name else f"functrans.numpy.{name}"


# The words of keys of a library without uint32 kernels for some structural operations
# (PyTorch has no flip, gather or scatter of uint32) are moved as int64 values, which hold
# every 32-bit value, and made uint32 again after (``wide``: the words' arithmetic is _I64).
def _widen(w, wide):
    return fnp.astype(w, fnp.int64) if wide else w


def _narrow(r, wide):
    if not wide:
        return r
    if isinstance(r, (list, tuple)):
        return type(r)(_narrow(o, wide) for o in r)
    return fnp.astype(r, fnp.uint32) if _dt.dtype_of(r) is _dt.int64 else r


def _typed(w0, w1):
    """A typed key array from its two words (any integer arrays of 32-bit values)."""
    return KeyArray(fnp.astype(w0, fnp.uint32), fnp.astype(w1, fnp.uint32))


def _raw_key(k, name):
    """The ``uint32`` data of shape ``(2,)`` of a single typed key; a raw key as it is (checked
    where it is used)."""
    if isinstance(k, KeyArray):
        _check_typed(k, name)
        if k.ndim:
            raise ValueError(f"functrans.random.{name}: takes a single key; got a key array "
                             f"of shape {k.shape}: map over the keys with functrans.vmap")
        return _stack_words(k._w0, k._w1, 0)
    return k


def _stack_words(w0, w1, axis):
    """``stack([w0, w1], axis)``: on the library's own function for concrete words (the
    common eager case, without functrans.numpy's dispatch)."""
    if not isinstance(w0, _Tracer) and not isinstance(w1, _Tracer):
        return _backend_of(w0).xp.stack([w0, w1], axis=axis)
    return fnp.stack([w0, w1], axis=axis)


def _check_typed(k, name):
    for w in (k._w0, k._w1):
        if not hasattr(w, "dtype") or _dt.as_dtype(w.dtype, strict=False) is not _dt.uint32:
            raise TypeError(f"functrans.random.{name}: invalid key array: its words must be "
                            f"uint32 arrays; got {w!r}")


def _takes_key(fn):
    """``fn(key, ...)`` taking a typed key (as its data) as well as a raw one."""
    name = fn.__name__

    @functools.wraps(fn)
    def sampler(key, *args, **kwargs):
        return fn(_raw_key(key, name), *args, **kwargs)
    return sampler


def _half_through_float32(fn):
    """The rejection sampler ``fn`` taking ``dtype=float16`` or ``bfloat16`` as JAX's do (a
    sample of that dtype): drawn in float32 and rounded once (its loops' values are not
    JAX's in any dtype; JAX's, computed in the half type throughout, round at every step)."""
    at = fn.__code__.co_varnames[:fn.__code__.co_argcount].index("dtype")

    @functools.wraps(fn)
    def sampler(*args, **kwargs):
        positional = len(args) > at
        dtype = args[at] if positional else kwargs.get("dtype")
        if dtype is None:
            return fn(*args, **kwargs)
        d = _dt.as_dtype(dtype)
        if d not in _dt.HALF:
            return fn(*args, **kwargs)
        if positional:
            args = args[:at] + (_dt.float32,) + args[at + 1:]
        else:
            kwargs["dtype"] = _dt.float32
        return fnp.astype(fn(*args, **kwargs), d)
    return sampler


# -- keys ---------------------------------------------------------------------------------------


def _seed_words(seed, name):
    """The two words of the key of an integer ``seed``: Python ints, or 0-d arrays (int64
    values in [0, 2**32)) on the seed's library."""
    if isinstance(seed, KeyArray):
        raise TypeError(f"functrans.random.{name}: takes an integer seed; got a key array")
    if isinstance(seed, bool) or (type(seed) is not int and not hasattr(seed, "dtype")):
        raise TypeError(f"functrans.random.{name}: seed must be an integer; got {seed!r}")
    if type(seed) is int:
        if not -(2 ** 63) <= seed < 2 ** 64:
            raise OverflowError(f"functrans.random.{name}: seed {seed} does not fit in 64 "
                                f"bits")
        s = seed % 2 ** 64
        return s >> 32, s & _M32
    d = _dt.as_dtype(seed.dtype, strict=False)
    if d is None or d.kind not in "iu" or tuple(seed.shape) != ():
        raise TypeError(f"functrans.random.{name}: seed must be an integer scalar; got an "
                        f"array of dtype {seed.dtype} and shape {tuple(seed.shape)}")
    s = fnp.astype(seed, fnp.int64)  # uint64 wraps to its two's complement
    hi = _u32(fnp.bitwise_right_shift(s, 32)) if d.bits == 64 else fnp.zeros_like(s)
    return hi, _u32(s)


def key(seed, *, impl=None, dtype=None, device=None):
    """A typed key (a 0-d :class:`KeyArray`, dtype ``key<fry>``) from an integer ``seed``: the
    words ``[seed >> 32, seed & 0xFFFFFFFF]`` (as JAX's with 64-bit seeds; negative seeds are
    taken modulo ``2**64``). :func:`PRNGKey` gives the same words as a raw ``uint32`` array;
    every function here takes either.

    A Python int makes the key on the default backend (or on ``device``, which JAX does not
    have); an integer array (0-d, possibly traced) makes it on the array's library and
    device. ``impl`` or ``dtype`` (JAX's newer name for it; not both) must be None,
    ``"threefry2x32"`` or :func:`key_dtype`."""
    if dtype is None:
        _check_impl(impl, "key")
    elif impl is not None:
        raise ValueError("functrans.random.key: give impl or dtype, not both")
    else:
        _check_impl(dtype, "key", "dtype")
    hi, lo = _seed_words(seed, "key")
    if type(hi) is int:
        return KeyArray(fnp.asarray(hi, dtype=fnp.uint32, device=device),
                        fnp.asarray(lo, dtype=fnp.uint32, device=device))
    return _typed(hi, lo)


def PRNGKey(seed, *, impl=None, device=None):
    """A raw key from an integer ``seed``: a ``uint32`` array of shape ``(2,)``, the words of
    :func:`key` (JAX's older form of keys, which every function here takes too)."""
    _check_impl(impl, "PRNGKey")
    hi, lo = _seed_words(seed, "PRNGKey")
    if type(hi) is int:
        return fnp.asarray([hi, lo], dtype=fnp.uint32, device=device)
    return _to_key(hi, lo)


def key_data(keys):
    """The ``uint32`` data of typed ``keys``: an array of shape ``keys.shape + (2,)``; raw keys
    (``uint32`` arrays whose last axis has length 2) are returned as they are."""
    if isinstance(keys, KeyArray):
        _check_typed(keys, "key_data")
        return _stack_words(keys._w0, keys._w1, -1)
    _check_keys(keys, "key_data")
    return keys



def _check_keys(keys, name):
    """A clear error unless ``keys`` is a key or an array of keys (``uint32``, last axis 2)."""
    if type(keys) in (int, float, bool) or not hasattr(keys, "shape"):
        raise TypeError(f"functrans.random.{name}: keys are typed key arrays or uint32 arrays "
                        f"whose last axis has length 2; got {type(keys).__name__}")
    if _dt.as_dtype(keys.dtype, strict=False) is not _dt.uint32 or \
            len(keys.shape) < 1 or keys.shape[-1] != 2:
        raise TypeError(f"functrans.random.{name}: keys are typed key arrays or uint32 arrays "
                        f"whose last axis has length 2; got dtype {keys.dtype} and shape "
                        f"{tuple(keys.shape)}")


def _check_impl(impl, name, arg="impl"):
    if impl is None or impl is _dt.key_fry or impl == _IMPL:
        return
    raise ValueError(f"functrans.random.{name}: {arg} must be None or {_IMPL!r} (the only "
                     f"implementation); got {impl!r}")


def key_impl(keys):
    """The name of the keys' random number generator, typed or raw: always
    ``"threefry2x32"`` (JAX gives the same string for its default keys; there is no
    ``PRNGSpec`` for other ones)."""
    if isinstance(keys, KeyArray):
        _check_typed(keys, "key_impl")
    else:
        _check_keys(keys, "key_impl")
    return _IMPL


def key_dtype(impl_spec=None):
    """The dtype of typed keys, ``key<fry>`` (``functrans.dtypes.key_fry``; under
    ``functrans.dtypes.prng_key`` for ``functrans.dtypes.issubdtype``). ``impl_spec`` must be
    None or ``"threefry2x32"``."""
    _check_impl(impl_spec, "key_dtype", "impl_spec")
    return _dt.key_fry


def wrap_key_data(key_bits_array, *, impl=None, dtype=None):
    """Typed keys from their data: a ``uint32`` array whose last axis has length 2 gives keys
    of the shape of its other axes (the inverse of :func:`key_data`). ``impl`` or ``dtype``
    (not both) may name ``"threefry2x32"`` (or :func:`key_dtype`)."""
    if impl is not None and dtype is not None:
        raise ValueError("functrans.random.wrap_key_data: give impl or dtype, not both")
    _check_impl(impl if dtype is None else dtype, "wrap_key_data",
                "impl" if dtype is None else "dtype")
    if isinstance(key_bits_array, KeyArray):
        raise TypeError("functrans.random.wrap_key_data: takes uint32 key data; got a key "
                        "array (already typed)")
    _check_keys(key_bits_array, "wrap_key_data")
    return KeyArray(key_bits_array[..., 0], key_bits_array[..., 1])


def clone(key):
    """The key itself (JAX's ``clone`` is the identity outside its key-reuse checker, which
    functrans does not have)."""
    return key


def split(key, num=2):
    """``num`` new keys from ``key``: typed keys of shape ``(num,)`` (or ``num`` for a tuple)
    from a typed key, a raw array of shape ``(num, 2)`` (or ``(*num, 2)``) from a raw one."""
    shape = _name_shape(num, "split")
    if isinstance(key, KeyArray):
        return _typed(*_blocks(_raw_key(key, "split"), shape, "split"))
    return _to_key(*_blocks(key, shape, "split"))


def fold_in(key, data):
    """A new key from ``key`` and the integer ``data``: the same ``(key, data)`` always gives
    the same key, different data give independent ones. Typed for a typed ``key``, raw for a
    raw one. As in JAX, ``data`` is a ``uint32``: a Python int outside ``[0, 2**32)`` is an
    OverflowError, and a 0-d integer array or NumPy integer scalar is converted, its value
    taken modulo ``2**32`` (so ``-1`` as an array is ``2**32 - 1``)."""
    typed = isinstance(key, KeyArray)
    w, k0, k1 = _words(_raw_key(key, "fold_in"), "fold_in")
    if type(data) in (int, bool):
        if not 0 <= data <= _M32:
            raise OverflowError(f"functrans.random.fold_in: data={data} is out of bounds for "
                                f"uint32 (0 to 2**32 - 1), as in JAX; pass data % 2**32 for "
                                f"the value modulo 2**32")
        d = fnp.full_like(k0, int(data))
    elif isinstance(data, _np.integer):  # (on any library, as a Python int is)
        d = fnp.full_like(k0, int(data) & _M32)
    else:
        dd = _dt.as_dtype(data.dtype, strict=False) if hasattr(data, "dtype") else None
        if dd is None or dd.kind not in "iu" or tuple(data.shape) != ():
            raise TypeError("functrans.random.fold_in: data must be an integer scalar")
        d = w.from_i64(_u32(fnp.astype(data, fnp.int64)))
    out = _threefry2x32(w, k0, k1, fnp.zeros_like(d), d)
    return _typed(*out) if typed else _to_key(*out)


def _bits32(k, shape, name):
    w0, w1 = _blocks(k, shape, name)
    return fnp.bitwise_xor(w0, w1)


def _bits64(k, shape, name):
    """64 random bits per element as int64 (two's complement of the unsigned value)."""
    w0, w1 = (fnp.astype(v, fnp.int64) for v in _blocks(k, shape, name))
    return fnp.bitwise_or(fnp.bitwise_left_shift(w0, 32), w1)


@_takes_key
def bits(key, shape=(), dtype=None):
    """Uniformly random unsigned integers of ``shape``: ``uint64`` by default (JAX's in its
    64-bit mode, which functrans's float64 default mirrors), ``uint8``, ``uint16`` and
    ``uint32`` too; the same bits as JAX's for each."""
    shape = _name_shape(shape, "bits")
    d = _dt.uint64 if dtype is None else _dt.as_dtype(dtype)
    if d.kind != "u":
        raise TypeError(f"functrans.random.bits: dtype must be an unsigned integer type; got "
                        f"{d.name}")
    if d.bits == 64:
        return fnp.astype(_bits64(key, shape, "bits"), d)
    b = _bits32(key, shape, "bits")
    if d.bits < 32:
        b = fnp.bitwise_and(b, 2 ** d.bits - 1)
    return fnp.astype(b, d)


# -- parameters ----------------------------------------------------------------------------------


def _float_dtype(dtype, name):
    """The sample dtype: float64 by default; float16 and bfloat16 are drawn as JAX draws them
    (its 16-bit and 8-bit random words), their transforms rounded once (see _round_once;
    the rejection samplers: see _half_through_float32)."""
    d = _dt.float64 if dtype is None else _dt.as_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"functrans.random.{name}: dtype must be a real floating type "
                        f"(float16, bfloat16, float32 or float64); got {d.name}")
    return d


def _computation_dtype(pd):
    """The float dtype to draw in beside a parameter of dtype ``pd`` (None: not an array):
    its own (float16 and bfloat16 too: JAX's draws from 16-bit and 8-bit words), float64 for
    anything else."""
    if pd is not None and pd.kind == "f":
        return pd
    return _dt.float64


def _param(x, dtype, like):
    """``x`` as an array of ``dtype``: Python numbers on the library and device of ``like``."""
    if isinstance(x, (bool, int, float)):
        return fnp.full_like(like, x, dtype=dtype)
    if isinstance(x, (list, tuple)):
        x = fnp.asarray(x)
    return fnp.astype(fnp.asarray(x), dtype)


def _check_shape(name, shape, *param_shapes):
    try:
        b = fnp.broadcast_shapes(shape, *param_shapes)
    except Exception:
        b = None
    if b is None or tuple(b) != tuple(shape):
        raise ValueError(f"functrans.random.{name}: the parameters' shapes "
                         f"{', '.join(str(tuple(s)) for s in param_shapes)} must broadcast to "
                         f"the shape argument {tuple(shape)}")


def _unit(k, shape, dtype, name):
    """Uniform floats in [0, 1) of ``dtype``: the top mantissa bits of JAX's random bits."""
    _check_key(k, name)  # (before the fast path asks for the key's backend)
    if dtype is _dt.float16:  # JAX's: the top 10 of 16 random bits (the low half of a word)
        b = fnp.bitwise_right_shift(fnp.bitwise_and(_bits32(k, shape, name), 0xFFFF), 6)
        return fnp.astype(fnp.astype(b, fnp.float32) * 2.0 ** -10, fnp.float16)
    if dtype is _dt.bfloat16:  # JAX's: the top 7 of 8 random bits (the low byte of a word)
        b = fnp.bitwise_right_shift(fnp.bitwise_and(_bits32(k, shape, name), 0xFF), 1)
        return fnp.astype(fnp.astype(b, fnp.float32) * 2.0 ** -7, fnp.bfloat16)
    n = math.prod(shape)
    if not isinstance(k, _Tracer) and n <= 2 ** 32 and _backend_of(k).name in _BLOCKED:
        # the conversion block by block, following the rounds while the words are in cache
        b = _backend_of(k)
        w, k0, k1 = _words(k, name)
        nd = b.native_dtype(dtype)
        out = b.xp.empty((n,), dtype=nd, device=b.device(k))
        tmp = b.xp.empty((min(n, _BLOCK),), dtype=nd, device=b.device(k))

        def finish(x0, x1, s, e):
            o = out[s:e]
            if dtype is _dt.float64:  # w0 2**-32 + (w1 >> 12) 2**-52, as below (exact)
                x1 >>= 12
                o[...] = x1
                o *= 2.0 ** -52
                t = tmp[:e - s]
                t[...] = x0
                t *= 2.0 ** -32
                o += t
            else:
                x0 ^= x1
                x0 >>= 9
                o[...] = x0
                o *= 2.0 ** -23

        _threefry_in_place(b, w, int(k0), int(k1), n, k, finish)
        return b.xp.reshape(out, shape)
    w0, w1 = _blocks(k, shape, name)
    if not isinstance(w0, _Tracer) and _backend_of(w0).name in _IN_PLACE:
        # the same operations in place on the cipher's fresh words
        b = _backend_of(w0)
        if dtype is _dt.float64:
            w1 >>= 12
            u, low = (b.xp.astype(v, b.native_dtype(_dt.float64)) for v in (w0, w1))
            u *= 2.0 ** -32
            low *= 2.0 ** -52
            u += low
            return u
        w0 ^= w1
        w0 >>= 9
        u = b.xp.astype(w0, b.native_dtype(_dt.float32))
        u *= 2.0 ** -23
        return u
    if dtype is _dt.float64:  # the 52 top bits of the 64-bit word (w0, w1)
        return (fnp.astype(w0, fnp.float64) * 2.0 ** -32
                + fnp.astype(fnp.bitwise_right_shift(w1, 12), fnp.float64) * 2.0 ** -52)
    b = fnp.bitwise_right_shift(fnp.bitwise_xor(w0, w1), 9)  # 23 mantissa bits
    return fnp.astype(b, fnp.float32) * 2.0 ** -23


def _uniform(k, shape, dtype, minval, maxval, name):
    if type(minval) in (int, float) and type(maxval) in (int, float):
        if minval == 0 and maxval == 1:
            return _unit(k, shape, dtype, name)  # u * 1 + 0 is u
        # Python bounds: the width w = maxval - minval rounded as XLA does; where it is a
        # power of two, u * w is exact and u * w + minval rounds once, as XLA's FMA.
        nd = _np.float64 if dtype is _dt.float64 else _np.float32
        lo = nd(minval)
        w = float(nd(maxval) - lo)
        # (float16: XLA's multiply-add rounds to float32 and then to float16, the general
        # path's _fma; bfloat16: XLA rounds the product and the sum each)
        if w > 0 and math.isfinite(w) and math.frexp(w)[0] == 0.5 and dtype not in _dt.HALF:
            u = _unit(k, shape, dtype, name)
            return fnp.maximum(_add(_mul(u, w), float(lo)), float(lo))
    like = _key_words(k, name)[0]
    lo, hi = _param(minval, dtype, like), _param(maxval, dtype, like)
    _check_shape(name, shape, lo.shape, hi.shape)
    u = _unit(k, shape, dtype, name)
    w = _sub(hi, lo)
    plain = _add(_mul(u, w), lo)
    if dtype is _dt.bfloat16:  # XLA rounds bfloat16's product and sum each, as plain does
        return fnp.maximum(lo, plain)
    # XLA fuses this multiply-add into an FMA (one rounding): its values, plain's derivative
    fix = _sub(_fma(u, w, lo), plain)
    out = _add(plain, fnp.stop_gradient(fnp.where(fnp.isfinite(fix), fix, 0.0)))
    return fnp.maximum(lo, out)


def _fma(a, b, c):
    """``a * b + c`` with one rounding (values only; float32 through float64, float64 with
    Dekker's exact product and Knuth's exact sum, whose last addition rounds once but for
    rare ties), for ``a`` in [0, 1)."""
    a, b, c = (fnp.stop_gradient(v) for v in (a, b, c))
    ad = _dt.as_dtype(a.dtype, strict=False)
    if ad is _dt.float32:
        a, b, c = (fnp.astype(v, fnp.float64) for v in (a, b, c))
        return fnp.astype(_add(_mul(a, b), c), fnp.float32)
    if ad is _dt.float16:  # XLA's: a float32 FMA (here exact in float64), then float16
        a, b, c = (fnp.astype(v, fnp.float64) for v in (a, b, c))
        return fnp.astype(fnp.astype(_add(_mul(a, b), c), fnp.float32), ad)
    # Dekker's split multiplies by 2**27 + 1 and overflows above ~2**996: scale such b (and
    # c) by 2**-64 and the result back, exactly (a is a uniform in [0, 1))
    scale = fnp.where(fnp.abs(b) > 2.0 ** 996, 2.0 ** -64, 1.0)
    b, c = _mul(b, scale), _mul(c, scale)
    p = _mul(a, b)
    ah, al = _split(a)
    bh, bl = _split(b)
    # p + e == a * b exactly
    e = _add(_add(_add(_sub(_mul(ah, bh), p), _mul(ah, bl)), _mul(al, bh)), _mul(al, bl))
    s = _add(p, c)
    v = _sub(s, p)
    t = _add(_sub(p, _sub(s, v)), _sub(c, v))  # s + t == p + c exactly
    return fnp.divide(_add(s, _add(t, e)), scale)


def _split(x):
    t = x * 134217729.0  # 2**27 + 1: x == hi + lo with hi of 26 bits
    hi = _sub(t, _sub(t, x))
    return hi, _sub(x, hi)


# -- samplers -----------------------------------------------------------------------------------


def _in_float64(u, transform, d):
    """``transform(u)``; for float16 and bfloat16 uniforms (JAX's) computed in float64 and
    rounded once: the correctly rounded transform of each uniform (but within ~1e-16 of a
    tie). JAX rounds every operation to the half type, which loses up to ~2**-11 absolute
    where the transform cancels (gumbel's -log(-log u), logistic's log u - log1p(-u) beside
    0) and a few hundred ulp beside cauchy's pole; float32 inside still missed ~0.3% of
    cauchy's roundings."""
    if d in _dt.HALF:  # (``d``: u's dtype, known to the caller)
        return _round_once(transform(_wide(u)), d)
    return transform(u)


def _wide(x):
    return fnp.astype(x, fnp.float64)


# significant bits and the smallest frexp exponent of a normal number, per half type
_HALF_FORMAT = {_dt.float16: (11, -13), _dt.bfloat16: (8, -125)}


def _round_once(x, d):
    """float64 ``x`` rounded once to the half type ``d`` (ties to even; subnormals, overflow to
    inf, inf and nan as IEEE): rounded in float64 to ``d``'s precision, so that the
    conversion is exact (the libraries' float64 -> bfloat16 goes through float32 and rounds
    twice, as torch's float64 -> float16: torch's 1 + 2**-8 + 2**-30 gives 1 in bfloat16, not
    1 + 2**-7). Differentiable as the identity."""
    bits, emin = _HALF_FORMAT[d]
    xs = fnp.stop_gradient(x)
    # (below the normal range the quantum is the subnormals' one: the exponent held at emin)
    e = fnp.maximum(fnp.frexp(xs)[1], emin)
    r = fnp.ldexp(fnp.round(fnp.ldexp(xs, _sub(bits, e))), _sub(e, bits))
    # r's value (a signed zero kept: x + (r - x) would be +0), x's derivative; xs - x is +0
    # but where x is infinite or nan (r is x there)
    return fnp.astype(_sub(r, fnp.where(fnp.isfinite(xs), _sub(xs, x), 0.0)), d)


@_takes_key
def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    """Uniform samples in ``[minval, maxval)`` of ``shape`` (``float64`` by default, where
    JAX without x64 gives ``float32``; ``float32`` on request). Differentiable in ``minval``
    and ``maxval``, which must broadcast to ``shape``."""
    shape = _name_shape(shape, "uniform")
    return _uniform(key, shape, _float_dtype(dtype, "uniform"), minval, maxval, "uniform")


@_takes_key
def normal(key, shape=(), dtype=None):
    """Standard normal samples (``float64`` by default): ``sqrt(2) * erfinv(u)`` of a uniform
    ``u`` in (-1, 1), as JAX. A complex ``dtype`` gives ``(x + i y) / sqrt(2)`` of real
    normals drawn from ``split(key)`` (as JAX): variance 1, ``E|z|^2 = 1``."""
    shape = _name_shape(shape, "normal")
    if dtype is not None and _dt.as_dtype(dtype).kind == "c":
        d = _dt.as_dtype(dtype)
        rd = _dt.float64 if d is _dt.complex128 else _dt.float32
        k_re, k_im = _pair(key)
        re, im = (fnp.astype(normal(kk, shape, rd), d) for kk in (k_re, k_im))
        return fnp.divide(_add(re, _mul(im, 1j)), math.sqrt(2.0))
    d = _float_dtype(dtype, "normal")
    return _in_float64(_normal_u(key, shape, d, "normal"), _erfinv_normal, d)


def _normal_u(key, shape, d, name):
    """:func:`normal`'s uniforms, in (-1, 1)."""
    lo = -1.0 + 2.0 ** -(_nmant(d) + 1)  # the float above -1 (no array: NumPy has no bfloat16)
    return _uniform(key, shape, d, lo, 1.0, name)


def _erfinv_normal(u):
    return _sp.erfinv(u) * math.sqrt(2.0)


# The samplers built on normal or exponential samples take float16 and bfloat16 as the
# correctly rounded transforms of JAX's half uniforms: the normal or exponential samples of
# those uniforms in float64 (not rounded to the half type), the rest of the transform in
# float64, one rounding at the end (_round_once). JAX's round at each step (XLA computes
# some in float32: 70% to 98% of its bfloat16 maxwell values, depending on the draw's size,
# are the rounded norms of unrounded normals, ours).


def _normal_wide(key, shape, d, name):
    """float64 standard normals of the half type ``d``'s uniforms (:func:`normal`'s samples
    before they are rounded to ``d``)."""
    return _erfinv_normal(_wide(_normal_u(key, shape, d, name)))


def _exponential_wide(key, shape, d, name):
    """float64 standard exponentials of the half type ``d``'s uniforms (:func:`exponential`'s
    samples before they are rounded to ``d``)."""
    return fnp.negative(fnp.log1p(fnp.negative(_wide(_unit(key, shape, d, name)))))


@_takes_key
def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal samples truncated to the open interval ``(lower, upper)`` (inverse
    transform sampling; the shape of ``lower`` and ``upper`` broadcast, by default).
    Differentiable in ``lower`` and ``upper``. JAX's values where the interval meets 0;
    accurate in the tails too (``(10, 12)``, ``(-inf, -20)``, and beyond where the tail's
    probability underflows, ``(40, inf)``, through logarithms), where JAX's draws all equal
    a bound. float16 and bfloat16: the transform of JAX's half uniforms between the bounds
    rounded to that type, computed in float64 and rounded once (JAX's rounds ``erf`` of the
    bounds and every step to the half type)."""
    d = _float_dtype(dtype, "truncated_normal")
    like = _key_words(key, "truncated_normal")[0]
    lower, upper = _param(lower, d, like), _param(upper, d, like)
    if shape is None:
        shape = fnp.broadcast_shapes(lower.shape, upper.shape)
    shape = _name_shape(shape, "truncated_normal")
    _check_shape("truncated_normal", shape, lower.shape, upper.shape)
    if d in _dt.HALF:
        u = _wide(_unit(key, shape, d, "truncated_normal"))
        out = _truncated_normal(key, _wide(lower), _wide(upper), shape, _dt.float64, u)
        out = _round_once(out, d)
    else:
        out = _truncated_normal(key, lower, upper, shape, d, None)
    inf = fnp.full_like(like, math.inf, dtype=d)
    lo = fnp.nextafter(fnp.stop_gradient(lower), inf)
    hi = fnp.nextafter(fnp.stop_gradient(upper), -inf)
    return fnp.minimum(fnp.maximum(out, lo), hi)


def _truncated_normal(key, lower, upper, shape, d, u):
    """:func:`truncated_normal`'s samples of dtype ``d`` before the clip to the bounds' open
    interval; ``u``: given uniforms in [0, 1) (the half types' in float64), or None (``d``'s
    own)."""
    # JAX's transform, sqrt2 erfinv(uniform(erf(lower / sqrt2), erf(upper / sqrt2))), loses
    # every digit in a tail (erf(10 / sqrt2) is 1.0: JAX returns `upper` for every draw on
    # (10, 12)); there the same map u -> F^-1(F(lower) + u (F(upper) - F(lower))) is
    # computed with the normal CDF on the tail's side. JAX's form (and bits) where the
    # interval meets 0. Each branch gets harmless bounds where it is not taken (no nan in
    # a derivative).
    pos, neg = lower > 0, upper < 0
    mid = fnp.logical_not(fnp.logical_or(pos, neg))
    r2 = math.sqrt(2.0)
    a = _sp.erf(fnp.where(mid, lower, -1.0) / r2)
    b = _sp.erf(fnp.where(mid, upper, 1.0) / r2)
    if u is None:
        out = _sp.erfinv(_uniform(key, shape, d, a, b, "truncated_normal")) * r2
        u = _unit(key, shape, d, "truncated_normal")
    else:  # (float64 uniforms of a half type: b - a and the sum round far below its ulp)
        out = _sp.erfinv(_add(a, _mul(u, _sub(b, a)))) * r2
    # further out the tail's probability underflows (ndtr(-40) is 0 in float64, ndtr(-14)
    # in float32: every draw was the largest float); there the same map in logarithms,
    # log sf(x) = log(sf(lo) - u (sf(lo) - sf(hi))), solved by Newton's method on log_ndtr
    # from the near end (lo = lower, hi = upper; mirrored for upper < 0)
    from .scipy.stats import _far_tail_quantile
    tiny = math.sqrt(float(_np.finfo(_np.dtype(d.name)).smallest_normal))
    far_r = fnp.logical_and(pos, _sp.ndtr(-fnp.stop_gradient(fnp.where(pos, lower, 1.0)))
                            < tiny)
    far_l = fnp.logical_and(neg, _sp.ndtr(fnp.stop_gradient(fnp.where(neg, upper, -1.0)))
                            < tiny)
    pos_n = fnp.logical_and(pos, fnp.logical_not(far_r))
    neg_n = fnp.logical_and(neg, fnp.logical_not(far_l))
    # lower > 0: 1 - F(x) = F(-x) is small and accurate
    fl = _sp.ndtr(-fnp.where(pos_n, lower, 1.0))
    fu = _sp.ndtr(-fnp.where(pos_n, upper, 2.0))
    right = -_sp.ndtri(_sub(fl, _mul(u, _sub(fl, fu))))
    # upper < 0: F itself is small
    fl = _sp.ndtr(fnp.where(neg_n, lower, -2.0))
    fu = _sp.ndtr(fnp.where(neg_n, upper, -1.0))
    left = _sp.ndtri(_add(fl, _mul(u, _sub(fu, fl))))
    near = fnp.where(far_r, lower, fnp.where(far_l, -upper, 40.0))
    end = fnp.where(far_r, upper, fnp.where(far_l, -lower, 41.0))
    l_near, l_end = _sp.log_ndtr(-near), _sp.log_ndtr(-end)
    log_p = _add(l_near, fnp.log1p(_mul(u, fnp.expm1(_sub(l_end, l_near)))))
    x_far = _far_tail_quantile(log_p, near)
    right = fnp.where(far_r, x_far, right)
    left = fnp.where(far_l, -x_far, left)
    return fnp.where(pos, right, fnp.where(neg, left, out))


@_takes_key
def bernoulli(key, p=0.5, shape=None, mode=None):
    """Booleans that are true with probability ``p`` (``uniform(key, shape) < p``; the shape
    of ``p`` by default). ``mode="high"`` compares with two uniforms' worth of bits, for
    probabilities below the dtype's resolution (as JAX)."""
    like = _key_words(key, "bernoulli")[0]
    pd = _dt.as_dtype(p.dtype, strict=False) if hasattr(p, "dtype") else None
    d = _computation_dtype(pd)
    p = _param(p, d, like)
    shape = tuple(p.shape) if shape is None else _name_shape(shape, "bernoulli")
    _check_shape("bernoulli", shape, p.shape)
    if _mode(mode, "bernoulli") == "high":
        u = _unit(key, (2,) + shape, d, "bernoulli")
        return fnp.less(_mul(u[1, ...], 2.0 ** -_nmant(d)), _sub(p, u[0, ...]))
    return fnp.less(_unit(key, shape, d, "bernoulli"), p)


def _urem(a, s, nbits):
    """``a mod s`` for unsigned ``nbits``-bit words (int64; for 64 bits, the two's complement
    of the unsigned values); ``a`` where ``s`` is 0 (as XLA)."""
    zero = fnp.equal(s, 0)
    if nbits <= 32:
        return fnp.where(zero, a, fnp.remainder(a, fnp.where(zero, 1, s)))
    big = fnp.less(s, 0)  # s >= 2**63: a mod s is a or a - s
    ss = fnp.where(fnp.logical_or(zero, big), 1, s)
    half = fnp.bitwise_and(fnp.bitwise_right_shift(a, 1), 2 ** 63 - 1)
    r = _sub(a, _mul(fnp.bitwise_left_shift(fnp.floor_divide(half, ss), 1), ss))  # [0, 2s)
    r = fnp.where(_uge(r, ss), _sub(r, ss), r)
    r_big = fnp.where(_uge(a, s), _sub(a, s), a)
    return fnp.where(zero, a, fnp.where(big, r_big, r))


def _uge(x, y):
    """``x >= y`` for 64-bit unsigned values held as int64."""
    return fnp.greater_equal(fnp.bitwise_xor(x, _MIN64), fnp.bitwise_xor(y, _MIN64))


@_takes_key
def randint(key, shape, minval, maxval, dtype=None):
    """Uniform integers in ``[minval, maxval)`` of ``shape`` (``int64`` by default; any
    integer dtype of 8 to 64 bits). As JAX: the bounds are clipped to the dtype's range
    (``maxval`` one past its maximum is allowed), ``maxval <= minval`` gives ``minval``, and
    the draw is the remainder of ``2 * nbits`` random bits. For ``uint64``, Python int bounds
    up to ``2**64 - 1`` are taken as they are (JAX refuses those above ``2**63 - 1``; a
    ``numpy.uint64`` bound gives the same bits in both)."""
    shape = _name_shape(shape, "randint")
    d = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    if d.kind not in "iu":
        raise TypeError(f"functrans.random.randint: dtype must be an integer type; got "
                        f"{d.name}")
    like = _key_words(key, "randint")[0]
    if d is _dt.uint64:
        return _randint_u64(key, shape, minval, maxval, like)
    (lo, _), (hi, hi_above) = (_int_bound(v, like) for v in (minval, maxval))
    _check_shape("randint", shape, lo.shape, hi.shape)
    info = fnp.iinfo(d)
    if info.bits < 32:  # as JAX: drawn as int32 between the bounds clipped to d's range
        lo, hi = fnp.clip(lo, info.min, info.max), fnp.clip(hi, info.min, info.max + 1)
        info = fnp.iinfo(fnp.int32)
    nbits = info.bits
    mask = 2 ** nbits - 1 if nbits < 64 else -1
    out_of_range = fnp.greater(hi, info.max)
    if hi_above is True:  # (a Python int bound; else an array, or False)
        out_of_range = fnp.full_like(out_of_range, True)
    elif hi_above is not False:
        out_of_range = fnp.logical_or(out_of_range, hi_above)
    lo, hi = fnp.clip(lo, info.min, info.max), fnp.clip(hi, info.min, info.max)
    ks = split(key)
    k1, k2 = ks[0, :], ks[1, :]
    if nbits == 64:
        high, low = _bits64(k1, shape, "randint"), _bits64(k2, shape, "randint")
    else:
        high, low = (fnp.bitwise_and(fnp.astype(_bits32(k, shape, "randint"), fnp.int64), mask)
                     for k in (k1, k2))
    span = fnp.bitwise_and(_sub(hi, lo), mask)
    span = fnp.where(fnp.less_equal(hi, lo), 1, span)
    span = fnp.where(fnp.logical_and(out_of_range, fnp.greater(hi, lo)),
                     fnp.bitwise_and(span + 1, mask), span)
    mult = _urem(fnp.full_like(span, 2 ** (nbits // 2)), span, nbits)
    mult = _urem(fnp.bitwise_and(_mul(mult, mult), mask), span, nbits)
    off = _add(_mul(_urem(high, span, nbits), mult), _urem(low, span, nbits))
    off = _urem(fnp.bitwise_and(off, mask), span, nbits)
    return fnp.astype(_add(lo, off), d)


def _randint_u64(key, shape, minval, maxval, like):
    """:func:`randint` for ``uint64``: the values held as int64 (their two's complement), so
    the comparisons are unsigned ones; the steps are those of the 64-bit path."""
    (lo, _), (hi, hi_above) = (_u64_bound(v, like) for v in (minval, maxval))
    _check_shape("randint", shape, lo.shape, hi.shape)
    empty = _uge(lo, hi)  # maxval <= minval: minval
    ks = split(key)
    high, low = _bits64(ks[0, :], shape, "randint"), _bits64(ks[1, :], shape, "randint")
    span = fnp.where(empty, 1, _sub(hi, lo))
    if hi_above is True:  # maxval above 2**64 - 1: one more value (2**64 wraps to 0: no rem)
        span = fnp.where(empty, span, _add(span, 1))
    mult = _urem(fnp.full_like(span, 2 ** 32), span, 64)
    mult = _urem(_mul(mult, mult), span, 64)
    off = _add(_mul(_urem(high, span, 64), mult), _urem(low, span, 64))
    off = _urem(off, span, 64)
    return fnp.astype(_add(lo, off), _dt.uint64)


def _u64_bound(v, like):
    """A bound of :func:`randint` for ``uint64``: its value clipped to ``[0, 2**64 - 1]`` as
    int64 (the two's complement), and whether it was a Python int above that range."""
    if isinstance(v, int) and not isinstance(v, bool):
        c = min(max(v, 0), 2 ** 64 - 1)
        return _param(c - 2 ** 64 if c >= 2 ** 63 else c, _dt.int64, like), v >= 2 ** 64
    if hasattr(v, "dtype") and _dt.as_dtype(v.dtype, strict=False) is _dt.uint64:
        return fnp.astype(v, fnp.int64), False  # wraps: the two's complement
    return fnp.maximum(_param(v, _dt.int64, like), 0), False


def _int_bound(v, like):
    """A bound of :func:`randint` as int64, clipped to int64's range (a Python int or a
    ``uint64`` value above it would wrap), and whether it was above that range (then it
    is one past int64's maximum at least)."""
    if isinstance(v, int) and not isinstance(v, bool):
        return _param(min(max(v, _MIN64), 2 ** 63 - 1), _dt.int64, like), v >= 2 ** 63
    if hasattr(v, "dtype") and _dt.as_dtype(v.dtype, strict=False) is _dt.uint64:
        above = fnp.greater(v, 2 ** 63 - 1)
        return fnp.astype(fnp.minimum(v, 2 ** 63 - 1), fnp.int64), above
    return _param(v, _dt.int64, like), False


def _shuffle(k, x, axis):
    """``x`` shuffled along ``axis`` by sorting on random keys (JAX's rounds)."""
    n = math.prod(x.shape)
    rounds = math.ceil(3 * math.log(max(1, n)) / math.log(_M32))
    for _ in range(rounds):
        ks = split(k)
        k, sub = ks[0, :], ks[1, :]
        order = fnp.argsort(_bits32(sub, tuple(x.shape), "permutation"), axis=axis, stable=True)
        x = fnp.take_along_axis(x, order, axis=axis)
    return x


def _as_count(x, name, what):
    """A Python int for an int ``x`` or a 0-d integer array (as JAX takes either: its value
    must be concrete), else None (an array to draw from)."""
    if isinstance(x, bool):
        raise TypeError(f"functrans.random.{name}: {what} must be an int or an array of at "
                        f"least one dimension; got a bool")
    if isinstance(x, int):
        return x
    if isinstance(x, _np.integer):
        return int(x)
    if isinstance(x, KeyArray) or not hasattr(x, "shape") or tuple(x.shape) != ():
        return None
    d = _dt.as_dtype(x.dtype, strict=False)
    if d is None or d.kind not in "iu":
        raise TypeError(f"functrans.random.{name}: {what} must be an int or an array of at "
                        f"least one dimension; got a 0-d array of dtype {x.dtype}")
    return int(x)  # (a traced one raises the concrete-value error, as JAX's)


@_takes_key
def permutation(key, x, axis=0, independent=False):
    """A random permutation of ``range(x)`` for an int ``x``, else of ``x`` along ``axis``
    (each slice shuffled on its own with ``independent=True``)."""
    k0 = _key_words(key, "permutation")[0]
    count = _as_count(x, "permutation", "x")
    if count is not None:
        x = count
        if x < 0:
            raise ValueError(f"functrans.random.permutation: x must be non-negative; got {x}")
        _axis(axis, 1, "permutation")  # (range(x) is 1-d: axis 0 or -1, as JAX)
        return _shuffle(key, _iota(k0, x), 0)
    x = fnp.asarray(x)
    if x.ndim == 0:
        raise TypeError("functrans.random.permutation: x must be an int or an array of at "
                        "least one dimension")
    axis = _axis(axis, x.ndim, "permutation")
    if independent or x.ndim == 1:
        return _shuffle(key, x, axis)
    idx = _shuffle(key, _iota(k0, x.shape[axis]), 0)
    return fnp.take(x, idx, axis=axis)


def _axis(axis, ndim, name):
    if not -ndim <= axis < ndim:
        raise ValueError(f"functrans.random.{name}: axis {axis} is out of bounds for an "
                         f"array of {ndim} dimensions")
    return axis % ndim


@_takes_key
def choice(key, a, shape=(), replace=True, p=None, axis=0, mode=None):
    """Random draws from ``a`` (an array, along ``axis``) or from ``range(a)`` (an int or a
    0-d integer array), with or without replacement, uniformly or with probabilities ``p``.
    As JAX (and unlike NumPy), ``p`` is not checked to sum to 1: it is normalised by its sum.
    ``mode`` is :func:`gumbel`'s, for the draw with ``p`` without replacement (the Gumbel
    top-k trick), as JAX."""
    shape = _name_shape(shape, "choice")
    mode = _mode(mode, "choice", ("low", "high", "highest"))
    _check_key(key, "choice")
    count = _as_count(a, "choice", "a")
    if count is not None:
        arr, n = None, count
    else:
        arr = fnp.asarray(a)
        if arr.ndim == 0:
            raise ValueError("functrans.random.choice: a must be an int or an array of at "
                             "least one dimension")
        axis = _axis(axis, arr.ndim, "choice")
        n = arr.shape[axis]
    draws = math.prod(shape)
    if draws and n <= 0:
        raise ValueError("functrans.random.choice: a must be positive unless no samples are "
                         "taken")
    if not replace and draws > n:
        raise ValueError(f"functrans.random.choice: cannot take a larger sample (size "
                         f"{draws}) than the population (size {n}) when replace=False")
    if p is None:
        if replace:
            ind = randint(key, shape, 0, n)
        else:
            ind = fnp.reshape(permutation(key, n)[:draws], shape)
    else:
        p = fnp.asarray(p)
        if tuple(p.shape) != (n,):
            raise ValueError(f"functrans.random.choice: p must have shape ({n},) (the "
                             f"population's size); got {tuple(p.shape)}")
        pd = _dt.as_dtype(p.dtype, strict=False)
        if pd.kind != "f" or pd in _dt.HALF:
            p = fnp.astype(p, _computation_dtype(pd))
        if replace:
            c = fnp.cumulative_sum(p)
            r = _mul(c[-1], 1 - _unit(key, shape, _dt.as_dtype(p.dtype), "choice"))
            ind = fnp.searchsorted(c, fnp.reshape(r, (-1,)))
            ind = fnp.reshape(fnp.astype(ind, fnp.int64), shape)
        else:
            g = _add(gumbel(key, (n,), dtype=p.dtype, mode=mode), fnp.log(p))
            ind = fnp.reshape(fnp.argsort(-g, stable=True)[:draws], shape)
    if arr is None:
        return ind
    out = fnp.take(arr, fnp.reshape(ind, (-1,)), axis=axis)
    return fnp.reshape(out, arr.shape[:axis] + shape + arr.shape[axis + 1:])


def _mode(mode, name, allowed=("low", "high")):
    if mode is None:
        return "low"
    if mode not in allowed:
        raise ValueError(f"functrans.random.{name}: mode must be None or one of {allowed}; "
                         f"got {mode!r}")
    return mode


def _nmant(d):
    return {_dt.float64: 52, _dt.float16: 10, _dt.bfloat16: 7}.get(d, 23)


@_takes_key
def gumbel(key, shape=(), dtype=None, mode=None):
    """Standard Gumbel samples: ``-log(-log(u))`` of a uniform ``u`` in [tiny, 1) (``mode``
    None or ``"low"``); ``mode="high"`` (``"highest"`` for float64) builds ``u`` from two
    uniforms for twice the resolution near 0, a larger largest value; float32's
    ``mode="highest"`` takes ``u`` from 64 random bits, to 24 significant bits wherever it
    is (as JAX, each mode)."""
    shape = _name_shape(shape, "gumbel")
    d = _float_dtype(dtype, "gumbel")
    mode = _mode(mode, "gumbel", ("low", "high", "highest"))
    if mode == "highest" and d is _dt.float32:
        return _gumbel_highest32(key, shape)
    tiny = float(fnp.finfo(d).smallest_normal)
    if mode == "low":
        u = _uniform(key, shape, d, tiny, 1.0, "gumbel")
        return _in_float64(u, lambda u: -fnp.log(-fnp.log(u)), d)
    u = _unit(key, (2,) + shape, d, "gumbel")
    high, low = u[0, ...], u[1, ...]
    x = fnp.where(high >= 0.5, high, _add(_add(high, _mul(low, 2.0 ** -_nmant(d))), tiny))
    return _in_float64(x, lambda x: -fnp.log(-fnp.log1p(-x)), d)


def _gumbel_highest32(k, shape):
    """float32 Gumbel samples of ``u = 1 - b`` for 64 random bits ``b`` (a fraction in
    [0, 1)), as JAX's ``mode="highest"``: the smaller of ``b`` and ``1 - b`` (exact in 64-bit
    fixed point) as a float32 truncated to 24 significant bits, then ``-log(-log1p(-x))``
    where ``x = b < 1/2``, else ``-log(-log(x))`` for ``x = 1 - b``."""
    w = fnp.astype(_bits32(k, (2,) + shape, "gumbel"), fnp.int64)  # 32-bit values
    hi, lo = w[0, ...], w[1, ...]
    small = fnp.less(hi, 2 ** 31)
    # 1 - b as 64-bit fixed point: the two's complement of (hi, lo), carry included
    n_lo = fnp.bitwise_and(_sub(2 ** 32, lo), _M32)
    n_hi = fnp.bitwise_and(_add(_sub(_M32, hi), fnp.astype(fnp.equal(lo, 0), fnp.int64)), _M32)
    xh, xl = fnp.where(small, hi, n_hi), fnp.where(small, lo, n_lo)
    from .lax import clz
    lz_h, lz_l = _sub(clz(xh), 32), _sub(clz(xl), 32)  # leading zeros of 32-bit words
    high_zero = fnp.equal(lz_h, 32)
    # the 32 bits from the leading one on (int64 shifts by 32 give 0, as XLA's)
    top = fnp.where(high_zero, fnp.bitwise_left_shift(xl, lz_l),
                    fnp.bitwise_or(fnp.bitwise_left_shift(xh, lz_h),
                                   fnp.bitwise_right_shift(xl, _sub(32, lz_h))))
    mant = fnp.bitwise_and(fnp.bitwise_right_shift(fnp.bitwise_and(top, _M32), 8),
                           2 ** 23 - 1)
    lz = fnp.where(high_zero, _add(lz_l, 32), lz_h)
    # 1.mant * 2**(-1 - lz): exact in float64 and float32 (lz <= 64; all-zero bits: 2**-65)
    x = fnp.astype(fnp.ldexp(fnp.astype(_add(mant, 2 ** 23), fnp.float64),
                             fnp.astype(_sub(-24, lz), fnp.int32)), fnp.float32)
    return fnp.where(small, -fnp.log(-fnp.log1p(-x)), -fnp.log(-fnp.log(x)))


@_takes_key
def categorical(key, logits, axis=-1, shape=None, replace=True, mode=None):
    """Indices drawn with probabilities ``softmax(logits)`` along ``axis`` (the Gumbel-max
    trick, as JAX); ``shape`` defaults to the other axes' shape and must end with it.
    ``replace=False`` draws ``prod(shape[:-len(batch)])`` distinct indices per distribution
    (the Gumbel top-k trick, as JAX); ``mode`` is :func:`gumbel`'s."""
    logits = fnp.asarray(logits)
    ld = _dt.as_dtype(logits.dtype, strict=False)
    if ld.kind != "f" or ld in _dt.HALF:
        logits = fnp.astype(logits, _computation_dtype(ld))
    if logits.ndim == 0:
        raise ValueError("functrans.random.categorical: logits must have at least one "
                         "dimension")
    axis = _axis(axis, logits.ndim, "categorical")
    batch = logits.shape[:axis] + logits.shape[axis + 1:]
    shape = batch if shape is None else _name_shape(shape, "categorical")
    _check_shape("categorical", shape, batch)
    prefix = shape[:len(shape) - len(batch)]
    if not replace:
        if tuple(shape[len(prefix):]) != tuple(batch):
            raise ValueError(f"functrans.random.categorical: with replace=False, shape must "
                             f"be (k,) + the logits' other axes {tuple(batch)} (k draws per "
                             f"distribution); got {shape}")
        k, n = math.prod(prefix), logits.shape[axis]
        if k > n:
            raise ValueError(f"functrans.random.categorical: cannot draw {k} samples without "
                             f"replacement from {n} categories")
        v = fnp.moveaxis(_add(logits, gumbel(key, logits.shape, logits.dtype, mode)), axis, -1)
        # the k largest, ties to the lower index (lax.top_k's order)
        top = fnp.argsort(-v, axis=-1, stable=True)[..., :k]
        return fnp.reshape(fnp.moveaxis(top, -1, 0), shape)
    # the gumbels of every distribution of shape's batch part (logits' axes of length 1
    # broadcast to it, as JAX's draw), the category axis put back at axis
    batch_out = shape[len(prefix):]
    draw_shape = prefix + batch_out[:axis] + (logits.shape[axis],) + batch_out[axis:]
    g = gumbel(key, draw_shape, dtype=logits.dtype, mode=mode)
    return fnp.argmax(_add(g, logits), axis=len(prefix) + axis)


@_takes_key
def exponential(key, shape=(), dtype=None):
    """Standard exponential samples: ``-log1p(-u)`` of a uniform ``u`` in [0, 1)."""
    shape = _name_shape(shape, "exponential")
    d = _float_dtype(dtype, "exponential")
    return _in_float64(_unit(key, shape, d, "exponential"), lambda u: -fnp.log1p(-u), d)


@_takes_key
def laplace(key, shape=(), dtype=None):
    """Standard Laplace samples: ``sign(u) * log1p(-|u|)`` of a uniform ``u`` in (-1, 1)."""
    shape = _name_shape(shape, "laplace")
    d = _float_dtype(dtype, "laplace")
    u = _uniform(key, shape, d, -1.0 + float(fnp.finfo(d).eps) / 2, 1.0, "laplace")
    return _in_float64(u, lambda u: _mul(fnp.sign(u), fnp.log1p(-fnp.abs(u))), d)


@_takes_key
def logistic(key, shape=(), dtype=None):
    """Standard logistic samples: ``log(u) - log1p(-u)`` of a uniform ``u`` in [tiny, 1)."""
    shape = _name_shape(shape, "logistic")
    d = _float_dtype(dtype, "logistic")
    u = _uniform(key, shape, d, fnp.finfo(d).smallest_normal, 1.0, "logistic")
    return _in_float64(u, lambda u: _sub(fnp.log(u), fnp.log1p(-u)), d)


@_takes_key
def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky"):
    """Multivariate normal samples ``mean + L z`` with ``L L^T = cov`` (``method``
    "cholesky", "eigh" or "svd"); ``shape`` is the batch shape (the broadcast of ``mean``'s
    and ``cov``'s by default). Differentiable in ``mean`` and ``cov``."""
    if method not in ("cholesky", "eigh", "svd"):
        raise ValueError(f"functrans.random.multivariate_normal: method must be 'cholesky', "
                         f"'eigh' or 'svd'; got {method!r}")
    d = _float_dtype(dtype, "multivariate_normal")
    like = _key_words(key, "multivariate_normal")[0]
    mean, cov = _param(mean, d, like), _param(cov, d, like)
    half = d in _dt.HALF
    if half:  # (the factorisation in float64, one rounding: JAX has no half linear algebra)
        mean, cov = _wide(mean), _wide(cov)
    if mean.ndim < 1:
        raise ValueError("functrans.random.multivariate_normal: mean must have at least one "
                         "dimension")
    n = mean.shape[-1]
    if cov.ndim < 2 or tuple(cov.shape[-2:]) != (n, n):
        raise ValueError(f"functrans.random.multivariate_normal: cov must end with shape "
                         f"({n}, {n}) to match mean's last axis; got {tuple(cov.shape)}")
    if shape is None:
        shape = fnp.broadcast_shapes(mean.shape[:-1], cov.shape[:-2])
    shape = _name_shape(shape, "multivariate_normal")
    _check_shape("multivariate_normal", shape, mean.shape[:-1], cov.shape[:-2])
    if method == "cholesky":
        factor = fnp.linalg.cholesky(cov)
    elif method == "eigh":
        w, v = fnp.linalg.eigh(cov)
        factor = _mul(v, fnp.sqrt(w)[..., None, :])
    else:
        u, s, _ = fnp.linalg.svd(cov)
        factor = _mul(u, fnp.sqrt(s)[..., None, :])
    z = _normal_wide(key, shape + (n,), d, "multivariate_normal") if half else \
        normal(key, shape + (n,), d)
    out = _add(mean, fnp.squeeze(fnp.matmul(factor, z[..., None]), axis=-1))
    return _round_once(out, d) if half else out


@_takes_key
def rademacher(key, shape=(), dtype=None):
    """Random signs, -1 or 1 with probability 1/2 each (``int64`` by default)."""
    shape = _name_shape(shape, "rademacher")
    d = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    b = fnp.astype(bernoulli(key, 0.5, shape), d)
    return fnp.astype(2 * b - 1, d)


# -- rejection samplers and those built on them ----------------------------------------------------
#
# The rejection loops are vectorised: every round draws one candidate for every element (from
# the round's own key, ``fold_in(key, round)``) and keeps it where the element is still waiting
# and the candidate is accepted; the loop (``functrans.lax.while_loop``: Python's ``while``
# eagerly, one staged ``while`` under ``jit``, run until every member is done under ``vmap``)
# ends when every element has been accepted. The values are therefore not JAX's, whose loops
# run per element on other keys; the distributions are the same.


def _while(cond, body, init):
    from .control_flow import while_loop
    return while_loop(cond, body, init)


def _shape_params(name, shape, *params):
    """``shape`` checked against the parameters' shapes (their broadcast by default)."""
    if shape is None:
        return tuple(fnp.broadcast_shapes(*(p.shape for p in params)))
    shape = _name_shape(shape, name)
    _check_shape(name, shape, *(p.shape for p in params))
    return shape


def _log_gamma_shape_slope(a, lz):
    """d log z / da for a standard gamma sample z = exp(lz) of shape a held at a fixed
    quantile (implicit reparameterisation, Figurnov et al. 2018): dz/da = -(dP/da)(a, z) /
    p(z; a), P the CDF and p the density, so d log z / da = -(dP/da) e^z Gamma(a) / z^a.
    Below z = e^-700 (where z and dP/da underflow) its limit -(log z - digamma(a + 1)) / a
    (P ~ z^a / Gamma(a + 1) there)."""
    tiny = fnp.less(lz, -700.0)
    lzs = fnp.where(tiny, 0.0, lz)
    z = fnp.exp(lzs)
    inv_zp = fnp.exp(_sub(_add(z, _sp.gammaln(a)), _mul(a, lzs)))  # 1 / (z p(z))
    direct = fnp.negative(_mul(_gammainc_da(a, z, n=1), inv_zp))
    limit = fnp.negative(fnp.divide(_sub(lz, _sp.digamma(_add(a, 1.0))), a))
    return fnp.where(tiny, limit, direct)


def _implicit_log_gamma(alpha, lx):
    """``lx`` (logarithms of standard gamma samples of shapes ``alpha``, drawn without
    derivative), differentiable in ``alpha``: the samples move with their shape at a fixed
    quantile, ``d log z / da = -(dP/da)(a, z) / (z p(z; a))`` (to any order the incomplete
    gamma function's derivatives allow: two in ``a``)."""
    from .core import Tracer
    if not isinstance(alpha, Tracer):
        return lx
    from .custom import custom_jvp

    @custom_jvp
    def link(a, y):
        return y

    @link.defjvp
    def _(primals, tangents):
        a, y = primals
        out = link(a, y)  # (itself again, so that the slope's own derivative sees log z move)
        # in float64: z + gammaln(a) - a log z cancels (to ~1e-3 absolute at a = 1e4 in float32)
        wide = (fnp.astype(a, fnp.float64), fnp.astype(out, fnp.float64))
        slope = fnp.astype(_log_gamma_shape_slope(*wide), out.dtype)
        return out, _mul(slope, tangents[0])

    return link(fnp.broadcast_to(alpha, lx.shape), lx)


def _log_gamma(k, alpha, shape, dtype):
    """Logarithms of standard gamma samples of shapes ``alpha`` (an array broadcasting to
    ``shape``): Marsaglia and Tsang's method (ACM TOMS 26, 2000), shapes below 1
    boosted to ``alpha + 1`` and multiplied by ``U ** (1 / alpha)`` (in logarithms, so that
    small shapes do not underflow). The draw itself carries no derivative; the result is
    differentiable in ``alpha`` by implicit reparameterisation (:func:`_implicit_log_gamma`)."""
    alpha_in = alpha
    alpha = fnp.broadcast_to(fnp.stop_gradient(alpha), shape)
    # a shape that is not a number >= 0 would never be accepted: 1 in the loop, nan out
    bad = fnp.logical_not(fnp.logical_and(fnp.greater_equal(alpha, 0.0), fnp.isfinite(alpha)))
    alpha = fnp.where(bad, 1.0, alpha)
    boost = fnp.less(alpha, 1.0)
    a = fnp.where(boost, alpha + 1.0, alpha)
    d = a - 1.0 / 3.0
    c = 1.0 / fnp.sqrt(9.0 * d)
    ks = split(k)
    k_loop, k_boost = ks[0, :], ks[1, :]

    def cond(carry):
        return fnp.logical_not(fnp.all(carry[2]))

    def body(carry):
        i, lx, done = carry
        kz, ku = _pair(fold_in(k_loop, i))
        z = normal(kz, shape, dtype)
        u = _unit(ku, shape, dtype, "gamma")
        # (fnp's functions, not operators: a raw array meets a tracer under vmap)
        v = _add(_mul(c, z), 1.0)
        pos = fnp.greater(v, 0.0)
        v3 = fnp.where(pos, _mul(_mul(v, v), v), 1.0)
        lv3 = fnp.log(v3)
        bound = _add(_add(_mul(_mul(z, z), 0.5), d), _mul(d, _sub(lv3, v3)))
        ok = fnp.logical_and(pos, fnp.less(fnp.log1p(-u), bound))
        lx = fnp.where(fnp.logical_and(ok, fnp.logical_not(done)), _add(fnp.log(d), lv3), lx)
        return i + 1, lx, fnp.logical_or(done, ok)

    zero = fnp.zeros_like(_key_words(k, "gamma")[0])
    init = (zero, fnp.zeros(shape, dtype=dtype, device=fnp.device(alpha)),
            fnp.zeros(shape, dtype=fnp.bool, device=fnp.device(alpha)))
    _, lx, _ = _while(cond, body, init)
    lu = fnp.log1p(-_unit(k_boost, shape, dtype, "gamma"))  # log U, U in (0, 1]
    lx = _add(lx, fnp.where(boost, fnp.divide(lu, fnp.where(boost, alpha, 1.0)), 0.0))
    return _implicit_log_gamma(alpha_in, fnp.where(bad, math.nan, lx))


def _pair(k):
    ks = split(k)
    return ks[0, :], ks[1, :]


def _float_params(name, k, dtype, *params):
    d = _float_dtype(dtype, name)
    like = _key_words(k, name)[0]
    return d, [_param(p, d, like) for p in params]


@_takes_key
@_half_through_float32
def gamma(key, a, shape=None, dtype=None):
    """Standard gamma samples of shape parameter ``a`` > 0 (scale 1; the shape of ``a`` by
    default; nan where ``a`` is negative, nan or infinite). Differentiable in ``a`` by implicit
    reparameterisation, as JAX (Figurnov et al. 2018): each sample moves with ``a`` at its
    fixed quantile, ``dz/da = -(dP/da)(a, z) / p(z; a)`` (``P`` the CDF, ``p`` the density;
    to second order)."""
    d, (alpha,) = _float_params("gamma", key, dtype, a)
    shape = _shape_params("gamma", shape, alpha)
    return fnp.exp(_log_gamma(key, alpha, shape, d))


@_takes_key
@_half_through_float32
def loggamma(key, a, shape=None, dtype=None):
    """Logarithms of standard gamma samples (accurate for small ``a``, where the samples
    themselves underflow)."""
    d, (alpha,) = _float_params("loggamma", key, dtype, a)
    shape = _shape_params("loggamma", shape, alpha)
    return _log_gamma(key, alpha, shape, d)


@_takes_key
@_half_through_float32
def beta(key, a, b, shape=None, dtype=None):
    """Beta samples of parameters ``a``, ``b`` > 0: ``X / (X + Y)`` of gamma samples, in
    logarithms; differentiable in ``a`` and ``b`` through the gamma samples' implicit
    reparameterisation (see :func:`gamma`)."""
    d, (a, b) = _float_params("beta", key, dtype, a, b)
    shape = _shape_params("beta", shape, a, b)
    ka, kb = _pair(key)
    la, lb = _log_gamma(ka, a, shape, d), _log_gamma(kb, b, shape, d)
    m = fnp.maximum(la, lb)
    ea, eb = fnp.exp(_sub(la, m)), fnp.exp(_sub(lb, m))
    out = fnp.divide(ea, _add(ea, eb))
    return out


@_takes_key
@_half_through_float32
def dirichlet(key, alpha, shape=None, dtype=None):
    """Dirichlet samples of concentrations ``alpha`` (last axis, each > 0): normalised gamma
    samples (a softmax of their logarithms). ``shape`` is the batch shape (``alpha``'s other
    axes by default); the result has shape ``shape + alpha.shape[-1:]``."""
    d, (alpha,) = _float_params("dirichlet", key, dtype, alpha)
    if alpha.ndim < 1:
        raise ValueError("functrans.random.dirichlet: alpha must have at least one dimension")
    shape = _shape_params("dirichlet", shape, fnp.reshape(alpha[..., 0], alpha.shape[:-1]))
    full = tuple(shape) + tuple(alpha.shape[-1:])
    lg = _log_gamma(key, alpha, full, d)
    m = fnp.max(lg, axis=-1, keepdims=True)
    e = fnp.exp(_sub(lg, m))
    return fnp.divide(e, fnp.sum(e, axis=-1, keepdims=True))


@_takes_key
@_half_through_float32
def chisquare(key, df, shape=None, dtype=None):
    """Chi-square samples with ``df`` > 0 degrees of freedom: ``2 * gamma(df / 2)``."""
    d, (df,) = _float_params("chisquare", key, dtype, df)
    shape = _shape_params("chisquare", shape, df)
    out = 2.0 * fnp.exp(_log_gamma(key, df / 2.0, shape, d))
    return out


@_takes_key
@_half_through_float32
def t(key, df, shape=None, dtype=None):
    """Student's t samples with ``df`` > 0 degrees of freedom (the shape of ``df`` by default):
    ``z * sqrt(df / 2 / g)`` of a normal ``z`` and a gamma ``g`` of shape ``df / 2`` (as
    JAX); ``df = inf`` gives the normal ``z`` (its limit; JAX gives nan)."""
    d, (df,) = _float_params("t", key, dtype, df)
    shape = _shape_params("t", shape, df)
    kn, kg = _pair(key)
    z = normal(kn, shape, d)
    finite = fnp.isfinite(df)
    half = fnp.where(finite, df, 1.0) / 2.0
    g = fnp.exp(_log_gamma(kg, half, shape, d))
    return fnp.where(finite, _mul(z, fnp.sqrt(fnp.divide(half, g))), z)


@_takes_key
def cauchy(key, shape=(), dtype=None):
    """Standard Cauchy samples: ``tan(pi * (u - 1/2))`` of a uniform ``u`` in [eps, 1) (JAX's
    transform of the same uniforms)."""
    shape = _name_shape(shape, "cauchy")
    d = _float_dtype(dtype, "cauchy")
    u = _uniform(key, shape, d, float(fnp.finfo(d).eps), 1.0, "cauchy")
    return _in_float64(u, lambda u: fnp.tan(math.pi * (u - 0.5)), d)


@_takes_key
@_half_through_float32
def generalized_normal(key, p, shape=(), dtype=None):
    """Generalized normal samples, of density proportional to ``exp(-|x|**p)``:
    ``rademacher * gamma(1/p) ** (1/p)`` (as JAX; ``p`` a positive Python number or array)."""
    d, (p,) = _float_params("generalized_normal", key, dtype, p)
    shape = _shape_params("generalized_normal", shape, p)
    kg, kr = _pair(key)
    g = fnp.exp(fnp.divide(_log_gamma(kg, fnp.divide(1.0, p), shape, d), p))
    r = fnp.astype(rademacher(kr, shape), d)
    return _mul(r, g)


@_takes_key
@_half_through_float32
def ball(key, d, p=2, shape=(), dtype=None):
    """Points uniformly distributed in the unit ``p``-norm ball of dimension ``d``: generalized
    normals divided by ``(sum |g|**p + e) ** (1/p)`` with an exponential ``e`` (as JAX).
    Result shape ``shape + (d,)``."""
    if not isinstance(d, int) or isinstance(d, bool) or d < 1:
        raise ValueError(f"functrans.random.ball: d must be a positive int; got {d!r}")
    shape = _name_shape(shape, "ball")
    fd = _float_dtype(dtype, "ball")
    kg, ke = _pair(key)
    g = generalized_normal(kg, p, shape + (d,), fd)
    e = exponential(ke, shape, fd)
    norm = fnp.pow(_add(fnp.sum(fnp.pow(fnp.abs(g), p), axis=-1), e), 1.0 / p)
    return fnp.divide(g, norm[..., None])


@_takes_key
def orthogonal(key, n, shape=(), dtype=None, m=None):
    """Random ``n`` x ``m`` matrices with orthonormal columns (``n >= m``) or rows, Haar
    distributed (``m = n`` by default: orthogonal matrices; unitary ones for a complex
    ``dtype``): the Q of a QR factorisation of a normal matrix, its columns' signs (complex:
    phases) fixed by R's diagonal (as JAX: its values to rounding, from the same key; the
    rows of a wide result are the plain transpose's, not the conjugate's). Result shape
    ``shape + (n, m)``."""
    m = n if m is None else m
    for name, v in (("n", n), ("m", m)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ValueError(f"functrans.random.orthogonal: {name} must be a non-negative "
                             f"int; got {v!r}")
    shape = _name_shape(shape, "orthogonal")
    d = _dt.float64 if dtype is None else _dt.as_dtype(dtype)
    if d.kind not in "fc":
        raise TypeError(f"functrans.random.orthogonal: dtype must be a floating type "
                        f"(float16, bfloat16, float32 or float64) or a complex one (complex64 "
                        f"or complex128: unitary matrices); got {d.name}")
    half = d in _dt.HALF
    zs = shape + (max(n, m), min(n, m))
    # (float16 and bfloat16: the factorisation in float64, one rounding: JAX has none)
    z = _normal_wide(key, zs, d, "orthogonal") if half else normal(key, zs, d)
    q, r = fnp.linalg.qr(z)
    s = fnp.sign(fnp.diagonal(r, axis1=-2, axis2=-1))
    q = _mul(q, s[..., None, :])
    if half:
        q = _round_once(q, d)
    return fnp.swapaxes(q, -1, -2) if n < m else q


def _poisson_small(k, lam, shape, dtype):
    """Knuth's multiplication method: the number of uniforms whose product stays above
    ``exp(-lam)``, counted in logarithms (for rates below 10)."""
    def cond(carry):
        return fnp.logical_not(fnp.all(carry[3]))

    def body(carry):
        i, lp, n, done = carry
        lu = fnp.log1p(-_unit(fold_in(k, i), shape, dtype, "poisson"))  # log U, U in (0, 1]
        lp = fnp.where(done, lp, _add(lp, lu))
        stop = fnp.less(lp, fnp.negative(lam))
        n = fnp.where(fnp.logical_or(done, stop), n, n + 1)
        return i + 1, lp, n, fnp.logical_or(done, stop)

    zero = fnp.zeros_like(_key_words(k, "poisson")[0])
    dev = fnp.device(lam)
    init = (zero, fnp.zeros(shape, dtype=dtype, device=dev),
            fnp.zeros(shape, dtype=fnp.int64, device=dev),
            fnp.zeros(shape, dtype=fnp.bool, device=dev))
    return _while(cond, body, init)[2]


def _poisson_large(k, lam, shape, dtype):
    """Hörmann's transformed rejection with squeeze (PTRS; "The transformed rejection method
    for generating Poisson random variables", 1993), for rates of 10 and above."""
    log_lam = fnp.log(lam)
    b = 0.931 + 2.53 * fnp.sqrt(lam)
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2.0)

    def cond(carry):
        return fnp.logical_not(fnp.all(carry[2]))

    def body(carry):
        i, n, done = carry
        ku, kv = _pair(fold_in(k, i))
        u = _unit(ku, shape, dtype, "poisson") - 0.5
        v = _unit(kv, shape, dtype, "poisson")
        us = 0.5 - fnp.abs(u)
        kk = fnp.floor(_add(_add(_mul(_add(fnp.divide(_mul(a, 2.0), us), b), u), lam), 0.43))
        s = fnp.log(fnp.divide(_mul(v, inv_alpha), _add(fnp.divide(a, _mul(us, us)), b)))
        tt = _sub(_sub(_mul(kk, log_lam), lam), _sp.gammaln(fnp.maximum(kk, 0.0) + 1.0))
        accept1 = fnp.logical_and(fnp.greater_equal(us, 0.07), fnp.less_equal(v, v_r))
        reject = fnp.logical_or(fnp.less(kk, 0.0),
                                fnp.logical_and(fnp.less(us, 0.013), fnp.greater(v, us)))
        ok = fnp.logical_or(accept1, fnp.logical_and(fnp.logical_not(reject),
                                                     fnp.less_equal(s, tt)))
        # (a count beyond int64 saturates, as JAX's conversion, rather than wrapping)
        kk = fnp.where(fnp.greater_equal(kk, 2.0 ** 63), 2 ** 63 - 1,
                       fnp.astype(fnp.minimum(kk, float(2 ** 63 - 1024)), fnp.int64))
        n = fnp.where(fnp.logical_and(ok, fnp.logical_not(done)), kk, n)
        return i + 1, n, fnp.logical_or(done, ok)

    zero = fnp.zeros_like(_key_words(k, "poisson")[0])
    dev = fnp.device(lam)
    init = (zero, fnp.zeros(shape, dtype=fnp.int64, device=dev),
            fnp.zeros(shape, dtype=fnp.bool, device=dev))
    return _while(cond, body, init)[1]


@_takes_key
def poisson(key, lam, shape=None, dtype=None):
    """Poisson samples of rates ``lam`` >= 0 (``int64`` by default; the shape of ``lam`` by
    default): Knuth's multiplication method below rate 10, Hörmann's transformed rejection
    (PTRS) from 10 on, as JAX (whose values differ: its loops run per element). Rates that
    are negative, nan or infinite give -1; counts above ``dtype``'s maximum give it."""
    od = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    if od.kind not in "iu":
        raise TypeError(f"functrans.random.poisson: dtype must be an integer type; got "
                        f"{od.name}")
    like = _key_words(key, "poisson")[0]
    lam = fnp.stop_gradient(_param(lam, _dt.float64, like))
    shape = _shape_params("poisson", shape, lam)
    lam = fnp.broadcast_to(lam, shape)
    bad = fnp.logical_not(fnp.logical_and(fnp.greater_equal(lam, 0.0), fnp.isfinite(lam)))
    lam = fnp.where(bad, 0.0, lam)  # (never accepted in the loops)
    small = fnp.less(lam, 10.0)
    ks, kl = _pair(key)
    n_small = _poisson_small(ks, fnp.where(small, lam, 0.0), shape, _dt.float64)
    n_large = _poisson_large(kl, fnp.where(small, 10.0, lam), shape, _dt.float64)
    out = fnp.where(small, n_small, n_large)
    out = fnp.where(bad, -1, out)  # as JAX for negative and nan rates
    top = fnp.iinfo(od).max
    if top < 2 ** 63 - 1:  # counts beyond the dtype saturate (as JAX), not wrap
        out = fnp.minimum(out, top)
    return fnp.astype(out, od)


# -- transforms of the samplers above --------------------------------------------------------


@_takes_key
def lognormal(key, sigma=1.0, shape=None, dtype=None):
    """Log-normal samples ``exp(sigma * z)`` of standard normals ``z`` (the shape of ``sigma``
    by default). Differentiable in ``sigma``. Real floating dtypes only (JAX also takes
    complex ones)."""
    d, (sigma,) = _float_params("lognormal", key, dtype, sigma)
    shape = _shape_params("lognormal", shape, sigma)
    if d in _dt.HALF:
        z = _normal_wide(key, shape, d, "lognormal")
        return _round_once(fnp.exp(_mul(_wide(sigma), z)), d)
    return fnp.exp(_mul(sigma, normal(key, shape, d)))


@_takes_key
def pareto(key, b, shape=None, dtype=None):
    """Pareto samples of shape ``b`` > 0, of density ``b / x**(b + 1)`` on ``x >= 1``:
    ``exp(e / b)`` of standard exponentials ``e`` (the shape of ``b`` by default).
    Differentiable in ``b``."""
    d, (b,) = _float_params("pareto", key, dtype, b)
    shape = _shape_params("pareto", shape, b)
    if d in _dt.HALF:
        e = _exponential_wide(key, shape, d, "pareto")
        return _round_once(fnp.exp(fnp.divide(e, _wide(b))), d)
    return fnp.exp(fnp.divide(exponential(key, shape, d), b))


@_takes_key
def rayleigh(key, scale, shape=None, dtype=None):
    """Rayleigh samples of ``scale`` > 0 (density proportional to ``x exp(-x**2 / (2
    scale**2))`` on ``x >= 0``): ``scale * sqrt(2 e)`` of standard exponentials ``e`` (the
    shape of ``scale`` by default). Differentiable in ``scale``. (JAX's ``sqrt(-2 log u)``
    of uniforms in [0, 1) can give inf; this cannot.)"""
    d, (scale,) = _float_params("rayleigh", key, dtype, scale)
    shape = _shape_params("rayleigh", shape, scale)
    if d in _dt.HALF:
        e = _exponential_wide(key, shape, d, "rayleigh")
        return _round_once(_mul(_wide(scale), fnp.sqrt(_mul(e, 2.0))), d)
    return _mul(scale, fnp.sqrt(_mul(exponential(key, shape, d), 2.0)))


@_takes_key
def maxwell(key, shape=(), dtype=None):
    """Maxwell (one-sided) samples, of density proportional to ``x**2 exp(-x**2 / 2)`` on
    ``x >= 0``: the Euclidean norms of standard normal vectors of three components."""
    shape = _name_shape(shape, "maxwell")
    d = _float_dtype(dtype, "maxwell")
    if d in _dt.HALF:
        return _round_once(_maxwell_wide(key, shape, d), d)
    z = normal(key, shape + (3,), d)
    return fnp.sqrt(fnp.sum(_mul(z, z), axis=-1))


def _maxwell_wide(key, shape, d):
    """float64 Maxwell samples of the half type ``d``'s uniforms: the norms of the float64
    normals (not rounded to ``d``: most of JAX's bfloat16 values are these, rounded)."""
    z = _normal_wide(key, shape + (3,), d, "maxwell")
    return fnp.sqrt(fnp.sum(_mul(z, z), axis=-1))


@_takes_key
def double_sided_maxwell(key, loc, scale, shape=(), dtype=None):
    """Double-sided Maxwell samples, of density proportional to ``z**2 exp(-z**2 / 2)`` in
    ``z = (x - loc) / scale``: ``loc + scale * s * m`` of random signs ``s`` and Maxwell
    samples ``m``. The result's shape is ``shape + broadcast(loc, scale).shape``, as JAX
    (whose ``shape=()`` gives the parameters' shape twice over, ``(3, 3)`` for ``(3,)``
    parameters; here ``(3,)``). Differentiable in ``loc`` and ``scale``."""
    d, (loc, scale) = _float_params("double_sided_maxwell", key, dtype, loc, scale)
    full = (_name_shape(shape, "double_sided_maxwell")
            + tuple(fnp.broadcast_shapes(loc.shape, scale.shape)))
    km, kr = _pair(key)
    if d in _dt.HALF:
        s = fnp.astype(rademacher(kr, full), fnp.float64)
        out = _add(_mul(_mul(s, _maxwell_wide(km, full, d)), _wide(scale)), _wide(loc))
        return _round_once(out, d)
    m = maxwell(km, full, d)
    s = fnp.astype(rademacher(kr, full), d)
    return _add(_mul(_mul(s, m), scale), loc)


@_takes_key
def weibull_min(key, scale, concentration, shape=(), dtype=None):
    """Weibull samples of ``scale`` and ``concentration`` c > 0 (density proportional to
    ``x**(c - 1) exp(-(x / scale)**c)`` on ``x > 0``): ``scale * e**(1 / c)`` of standard
    exponentials ``e``. The result's shape is that of ``shape`` broadcast with the
    parameters', as JAX; unlike JAX, whose draws have ``shape`` only (so that ``shape=()``
    with array parameters reuses one draw for every element), every element has its own
    draw. Differentiable in ``scale`` and ``concentration``."""
    d, (scale, c) = _float_params("weibull_min", key, dtype, scale, concentration)
    shape = _name_shape(shape, "weibull_min")
    try:
        full = tuple(fnp.broadcast_shapes(shape, scale.shape, c.shape))
    except Exception:
        full = None
    if full is None:
        raise ValueError(f"functrans.random.weibull_min: shape {shape} does not broadcast "
                         f"with the parameters' shapes {tuple(scale.shape)}, "
                         f"{tuple(c.shape)}")
    if d in _dt.HALF:
        e = _exponential_wide(key, full, d, "weibull_min")
        return _round_once(_mul(fnp.pow(e, fnp.divide(1.0, _wide(c))), _wide(scale)), d)
    e = exponential(key, full, d)
    return _mul(fnp.pow(e, fnp.divide(1.0, c)), scale)


@_takes_key
def wald(key, mean, shape=None, dtype=None):
    """Wald (inverse Gaussian) samples of ``mean`` > 0 and shape parameter 1 (SciPy's
    ``invgauss(mean)``; the shape of ``mean`` by default): Michael, Schucany and Haas's
    transform of a normal and a uniform, as JAX, with the root taken in the form that does
    not cancel (``mean / (1 + r/2 + sqrt(r + r**2/4))``, ``r = mean * z**2``). The sample is
    differentiable in ``mean`` where it is smooth (almost everywhere: it jumps where the
    uniform crosses the choice between the two roots), as JAX's. nan where ``mean <= 0``."""
    d, (mean,) = _float_params("wald", key, dtype, mean)
    shape = _shape_params("wald", shape, mean)
    valid = fnp.greater(mean, 0.0)
    mean = fnp.where(valid, mean, 1.0)
    kn, ku = _pair(key)
    half = d in _dt.HALF
    if half:
        mean = _wide(mean)
        z = _normal_wide(kn, shape, d, "wald")
        u = _wide(_unit(ku, shape, d, "wald"))
    else:
        z = normal(kn, shape, d)
        u = _unit(ku, shape, d, "wald")
    r = _mul(mean, _mul(z, z))
    x = fnp.divide(mean, _add(_add(1.0, _mul(r, 0.5)), fnp.sqrt(_add(r, _mul(_mul(r, r), 0.25)))))
    pick = fnp.less_equal(u, fnp.divide(mean, _add(mean, x)))
    out = fnp.where(pick, x, fnp.divide(_mul(mean, mean), x))
    out = fnp.where(valid, out, math.nan)  # (as JAX's formula for mean < 0)
    return _round_once(out, d) if half else out


@_takes_key
@_half_through_float32
def f(key, dfnum, dfden, shape=None, dtype=None):
    """F-distribution samples with ``dfnum`` and ``dfden`` > 0 degrees of freedom (the
    parameters' broadcast shape by default): the ratio of two chi-square samples, each
    divided by its degrees of freedom (computed from their logarithms, so that small degrees
    of freedom do not underflow to 0 / 0). Differentiable in ``dfnum`` and ``dfden`` through
    the gamma samples' implicit reparameterisation (see :func:`gamma`)."""
    d, (dfnum, dfden) = _float_params("f", key, dtype, dfnum, dfden)
    shape = _shape_params("f", shape, dfnum, dfden)
    kd, kn = _pair(key)
    hn, hd = fnp.divide(dfnum, 2.0), fnp.divide(dfden, 2.0)
    ln, ld = _log_gamma(kn, hn, shape, d), _log_gamma(kd, hd, shape, d)
    # (X / a) / (Y / b) of gamma samples X, Y of shapes a, b
    return _mul(fnp.exp(_sub(ln, ld)), fnp.divide(hd, hn))


@_takes_key
def triangular(key, left, mode, right, shape=None, dtype=None):
    """Triangular samples on ``[left, right]`` with peak at ``mode`` (the parameters'
    broadcast shape by default): the inverse of the distribution function at uniforms, as
    JAX. Differentiable in ``left``, ``mode`` and ``right``."""
    d, (lo, mo, hi) = _float_params("triangular", key, dtype, left, mode, right)
    shape = _shape_params("triangular", shape, lo, mo, hi)
    u = _unit(key, shape, d, "triangular")
    half = d in _dt.HALF
    if half:
        u, lo, mo, hi = (_wide(v) for v in (u, lo, mo, hi))
    width = _sub(hi, lo)
    fc = fnp.divide(_sub(mo, lo), width)
    below = _add(lo, fnp.sqrt(_mul(_mul(u, width), _sub(mo, lo))))
    above = _sub(hi, fnp.sqrt(_mul(_mul(_sub(1.0, u), width), _sub(hi, mo))))
    out = fnp.where(fnp.less(u, fc), below, above)
    return _round_once(out, d) if half else out


# -- discrete samplers built on loops: geometric, binomial, multinomial ------------------------


def _int_out_dtype(dtype, name):
    od = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    if od.kind not in "iu":
        raise TypeError(f"functrans.random.{name}: dtype must be an integer type; got "
                        f"{od.name}")
    return od


def _saturating_int(x, od):
    """Whole floats ``x`` (>= 0, possibly inf) as the integer dtype ``od``, values above its
    maximum saturating at it (as JAX's conversion) rather than wrapping."""
    x = fnp.astype(x, fnp.float64)  # (int32's maximum rounds up in float32)
    top = fnp.iinfo(od).max
    big = fnp.greater_equal(x, float(top))
    # (the largest float64 below 2**63, for int64; exact for smaller dtypes)
    cap = float(top) if top < 2 ** 53 else float(2 ** 63 - 1024)
    return fnp.where(big, top, fnp.astype(fnp.minimum(x, cap), od))


@_takes_key
def geometric(key, p, shape=None, dtype=None):
    """Geometric samples: the number of Bernoulli trials of success probability ``p`` up to
    and including the first success (values 1, 2, ...; ``int64`` by default; the shape of
    ``p`` by default): ``floor(log(u) / log1p(-p)) + 1`` of ``uniform(key, shape)``'s ``u``,
    a ``u`` of 0 taken as 1, as JAX (so the same key gives JAX's samples).
    ``p = 0`` gives ``dtype``'s maximum (where JAX's conversion of inf also gives it) and
    ``p`` nan or outside [0, 1] gives -1 (JAX's conversion of nan gives 0 there); counts
    beyond ``dtype``'s maximum saturate at it. No derivative (the samples are integers).
    (For an unsigned ``dtype``, invalid ``p`` gives 0, also outside the support.)"""
    od = _int_out_dtype(dtype, "geometric")
    like = _key_words(key, "geometric")[0]
    pd = _dt.as_dtype(p.dtype, strict=False) if hasattr(p, "dtype") else None
    d = _computation_dtype(pd)
    p = fnp.stop_gradient(_param(p, d, like))
    shape = _shape_params("geometric", shape, p)
    bad = fnp.logical_not(fnp.logical_and(fnp.greater_equal(p, 0.0), fnp.less_equal(p, 1.0)))
    zero, one = fnp.equal(p, 0.0), fnp.equal(p, 1.0)
    safe = fnp.where(fnp.logical_or(bad, fnp.logical_or(zero, one)), 0.5, p)
    u = _unit(key, shape, d, "geometric")  # JAX's uniforms in [0, 1), a 0 taken as 1
    if d in _dt.HALF:  # (the logarithms and their ratio in float64, as _in_float64)
        u, safe = fnp.astype(u, fnp.float64), fnp.astype(safe, fnp.float64)
    lu = fnp.log(fnp.where(fnp.equal(u, 0.0), 1.0, u))
    g = _add(fnp.floor(fnp.divide(lu, fnp.log1p(fnp.negative(safe)))), 1.0)
    g = fnp.where(zero, math.inf, fnp.where(one, 1.0, g))
    out = _saturating_int(g, od)
    return fnp.where(fnp.broadcast_to(bad, shape), -1 if od.kind == "i" else 0, out)


_WAITS = 8  # waiting times drawn per element and round by _binomial_inversion


def _binomial_inversion(k, n, q, shape):
    """Binomial counts of ``n`` trials of probability ``q`` (float64 arrays of ``shape``; for
    small ``n * q``): the number of geometric waiting times, ``ceil(log U / log1p(-q))``,
    whose running sum stays within ``n``. Elements with ``q = 0`` or ``n = 0`` are 0 at
    once (the loop does not wait for them)."""
    lq = fnp.log1p(fnp.negative(fnp.where(fnp.greater(q, 0.0), q, 0.5)))

    def cond(carry):
        return fnp.logical_not(fnp.all(carry[3]))

    def body(carry):
        # _WAITS waiting times per element and round: the number of their running sums
        # within n is added to the count, and the element is done once one is beyond n
        i, total, count, done = carry
        u = _unit(fold_in(k, i), (_WAITS,) + tuple(shape), _dt.float64, "binomial")
        wait = fnp.maximum(fnp.ceil(fnp.divide(fnp.log1p(fnp.negative(u)), lq)), 1.0)
        sums = _add(total, fnp.cumulative_sum(wait, axis=0))
        within = fnp.sum(fnp.astype(fnp.less_equal(sums, n), fnp.float64), axis=0)
        count = fnp.where(done, count, _add(count, within))
        total = fnp.where(done, total, sums[-1, ...])
        return i + 1, total, count, fnp.logical_or(done, fnp.greater(sums[-1, ...], n))

    zero = fnp.zeros_like(_key_words(k, "binomial")[0])
    dev = fnp.device(q)
    init = (zero, fnp.zeros(shape, dtype=fnp.float64, device=dev),
            fnp.zeros(shape, dtype=fnp.float64, device=dev),
            fnp.logical_or(fnp.less_equal(q, 0.0), fnp.less(n, 1.0)))
    return _while(cond, body, init)[2]


_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _stirling_tail(x):
    """``log(x!) - ((x + 1/2) log(x + 1) - (x + 1) + log(2 pi) / 2)``, Stirling's formula's
    error, for whole ``x >= 0``: from ``gammaln`` below 10, its asymptotic series (to
    ``1e-10``) from 10 on, where the difference of ``gammaln`` would cancel."""
    small = fnp.less(x, 10.0)
    xs = fnp.where(small, x, 0.0)
    exact = _sub(_sp.gammaln(_add(xs, 1.0)),
                 _add(_sub(_mul(_add(xs, 0.5), fnp.log1p(xs)), _add(xs, 1.0)), _HALF_LOG_2PI))
    z = fnp.where(small, 10.0, _add(x, 1.0))
    iz2 = fnp.divide(1.0, _mul(z, z))
    series = fnp.divide(_sub(1.0 / 12, _mul(iz2, _sub(1.0 / 360, fnp.divide(iz2, 1260.0)))), z)
    return fnp.where(small, exact, series)


def _log_binomial_ratio(n, q, k, m, tails_m):
    """``log(P(k) / P(m))`` for the binomial of ``n`` trials of probability ``q``, whole
    ``0 <= k, m <= n`` (``tails_m``: the Stirling tails of ``m`` and ``n - m``), by Stirling's
    formula with its tails, in the form whose terms stay of the order of the result: with
    ``d = k - m``, ``(m + 1/2) log1p(-d / (k + 1)) + (n - m + 1/2) log1p(d / (n - k + 1))
    - d log((k + 1) (1 - q) / ((n - k + 1) q))`` plus the tails (a difference of
    ``gammaln`` loses all digits at ``n = 1e15``)."""
    d = _sub(k, m)
    nk1 = _add(_sub(n, k), 1.0)
    t1 = _mul(_add(m, 0.5), fnp.log1p(fnp.negative(fnp.divide(d, _add(k, 1.0)))))
    t2 = _mul(_add(_sub(n, m), 0.5), fnp.log1p(fnp.divide(d, nk1)))
    t3 = _mul(d, fnp.log(fnp.divide(_mul(_add(k, 1.0), _sub(1.0, q)), _mul(nk1, q))))
    tails = _sub(tails_m, _add(_stirling_tail(k), _stirling_tail(_sub(n, k))))
    return _add(_sub(_add(t1, t2), t3), tails)


def _binomial_btrs(k, n, q, shape, skip):
    """Binomial counts of ``n`` trials of probability ``q <= 1/2`` (float64 arrays of
    ``shape``; for ``n * q`` above 10): Hörmann's transformed rejection with squeeze (BTRS;
    "The generation of binomial random variates", 1993), its exact acceptance test on the
    log-ratio of probabilities :func:`_log_binomial_ratio`. Elements where ``skip`` is true are not drawn (0; the loop does not
    wait for them)."""
    spq = fnp.sqrt(_mul(_mul(n, q), _sub(1.0, q)))
    b = _add(1.15, _mul(2.53, spq))
    a = _add(_add(-0.0873, _mul(0.0248, b)), _mul(0.01, q))
    c = _add(_mul(n, q), 0.5)
    v_r = _sub(0.92, fnp.divide(4.2, b))
    alpha = _mul(_add(2.83, fnp.divide(5.1, b)), spq)
    m = fnp.floor(_mul(_add(n, 1.0), q))
    tails_m = _add(_stirling_tail(m), _stirling_tail(_sub(n, m)))

    def cond(carry):
        return fnp.logical_not(fnp.all(carry[2]))

    def body(carry):
        i, out, done = carry
        ku, kv = _pair(fold_in(k, i))
        u = _sub(_unit(ku, shape, _dt.float64, "binomial"), 0.5)
        v = _unit(kv, shape, _dt.float64, "binomial")
        us = _sub(0.5, fnp.abs(u))
        kk = fnp.floor(_add(_mul(_add(fnp.divide(_mul(a, 2.0), us), b), u), c))
        inside = fnp.logical_and(fnp.greater_equal(kk, 0.0), fnp.less_equal(kk, n))
        kc = fnp.where(inside, kk, 0.0)
        squeeze = fnp.logical_and(fnp.greater_equal(us, 0.07), fnp.less_equal(v, v_r))
        lv = fnp.log(fnp.divide(_mul(v, alpha), _add(fnp.divide(a, _mul(us, us)), b)))
        bound = _log_binomial_ratio(n, q, kc, m, tails_m)
        ok = fnp.logical_and(inside, fnp.logical_or(squeeze, fnp.less_equal(lv, bound)))
        out = fnp.where(fnp.logical_and(ok, fnp.logical_not(done)), kc, out)
        return i + 1, out, fnp.logical_or(done, ok)

    zero = fnp.zeros_like(_key_words(k, "binomial")[0])
    dev = fnp.device(q)
    init = (zero, fnp.zeros(shape, dtype=fnp.float64, device=dev), skip)
    return _while(cond, body, init)[1]


def _binomial(k, n, p, shape):
    """Binomial counts (float64) of ``n`` trials (floored) of probability ``p``, float64
    arrays broadcasting to ``shape``: nan where ``n`` is nan or negative or ``p`` is nan or
    outside [0, 1], inf where ``n`` is inf."""
    n, p = fnp.broadcast_to(n, shape), fnp.broadcast_to(p, shape)
    bad = fnp.logical_not(fnp.logical_and(
        fnp.logical_and(fnp.greater_equal(n, 0.0), fnp.greater_equal(p, 0.0)),
        fnp.less_equal(p, 1.0)))
    infinite = fnp.logical_and(fnp.isinf(n), fnp.logical_not(bad))
    flip = fnp.greater(p, 0.5)
    n = fnp.where(fnp.logical_or(bad, infinite), 0.0, fnp.floor(n))
    q = fnp.where(bad, 0.0, fnp.where(flip, _sub(1.0, p), p))
    small = fnp.less_equal(_mul(n, q), 10.0)
    ki, kb = _pair(k)
    s_inv = _binomial_inversion(ki, fnp.where(small, n, 0.0), fnp.where(small, q, 0.0), shape)
    s_btrs = _binomial_btrs(kb, fnp.where(small, 1e4, n), fnp.where(small, 0.5, q), shape,
                            small)
    s = fnp.where(small, s_inv, s_btrs)
    s = fnp.where(flip, _sub(n, s), s)
    return fnp.where(bad, math.nan, fnp.where(infinite, math.inf, s))


@_takes_key
def binomial(key, n, p, shape=None, dtype=None):
    """Binomial samples: successes in ``n`` trials of probability ``p`` (``n`` floored, as
    JAX and NumPy), as floats (``float64`` by default, as JAX; the parameters' broadcast shape
    by default). JAX's methods: counting geometric waiting times for ``n * min(p, 1 - p)``
    up to 10, Hörmann's BTRS above; its values differ (the loops are vectorised, see
    :func:`poisson`). nan where ``n`` is nan or negative or ``p`` nan or outside [0, 1]
    (as JAX), inf where ``n`` is inf. No derivative (the samples are counts). float16 and
    bfloat16: the counts rounded once (JAX's, for ``p > 1/2``, are ``n - k`` with ``n``
    rounded to the half type first: 1198 trials count as 1200 in bfloat16)."""
    d = _float_dtype(dtype, "binomial")
    like = _key_words(key, "binomial")[0]
    n = fnp.stop_gradient(_param(n, _dt.float64, like))
    p = fnp.stop_gradient(_param(p, _dt.float64, like))
    shape = _shape_params("binomial", shape, n, p)
    out = _binomial(key, n, p, shape)
    # (float16 and bfloat16: the counts rounded once, as the other samplers' values)
    return _round_once(out, d) if d in _dt.HALF else fnp.astype(out, d)


@_takes_key
def multinomial(key, n, p, *, shape=None, dtype=None, unroll=1):
    """Multinomial counts: ``n`` trials spread over the outcomes of probabilities ``p`` (last
    axis; scaled by their sum, as JAX, which does not check it), as floats (``float64`` by
    default; an integer dtype is taken too). As JAX's code (its docstring says otherwise),
    ``shape`` is the whole result's shape, ``p.shape`` by default: ``p`` broadcasts to it and
    ``n`` to ``shape[:-1]``. Drawn outcome by outcome, each count a :func:`binomial` of the
    trials left at the outcome's share of the probability left, as JAX. ``unroll`` is
    accepted and ignored (the outcomes are a Python loop). No derivative."""
    if not isinstance(unroll, int):  # (bool is an int)
        raise TypeError(f"functrans.random.multinomial: unroll must be an int or a bool; got "
                        f"{unroll!r}")
    od = _dt.float64 if dtype is None else _dt.as_dtype(dtype)
    if od.kind not in "fiu":
        raise TypeError(f"functrans.random.multinomial: dtype must be a real floating or "
                        f"integer type; got {od.name}")
    like = _key_words(key, "multinomial")[0]
    n = fnp.stop_gradient(_param(n, _dt.float64, like))
    p = fnp.stop_gradient(_param(p, _dt.float64, like))
    if p.ndim < 1:
        raise ValueError("functrans.random.multinomial: p must have at least one dimension "
                         "(the outcomes' axis)")
    shape = tuple(p.shape) if shape is None else _name_shape(shape, "multinomial")
    if len(shape) < 1:
        raise ValueError("functrans.random.multinomial: shape is the whole result's shape "
                         "(ending with the outcomes' axis); got ()")
    _check_shape("multinomial", shape, p.shape)
    _check_shape("multinomial", shape[:-1], n.shape)
    p = fnp.broadcast_to(p, shape)
    m = shape[-1]
    left = fnp.flip(fnp.cumulative_sum(fnp.flip(p, axis=-1), axis=-1), axis=-1)
    ratio = fnp.clip(fnp.divide(p, fnp.where(fnp.equal(left, 0.0), 1.0, left)), 0.0, 1.0)
    keys = split(key, m)
    rest = fnp.broadcast_to(n, shape[:-1])
    counts = []
    for j in range(m):
        c = _binomial(keys[j, :], rest, ratio[..., j], shape[:-1])
        counts.append(c)
        rest = _sub(rest, c)
    out = fnp.stack(counts, axis=-1) if m else fnp.zeros(shape, dtype=fnp.float64,
                                                         device=fnp.device(p))
    return _round_once(out, od) if od in _dt.HALF else fnp.astype(out, od)


# Samples drawn by user code under forward mode or vmap are constant tracers, as the
# creation functions' arrays (functrans.numpy's wrapper; functrans's own callers get plain
# arrays). Keys stay as they are.
def _samples_as_constants():
    from .numpy import _as_constants
    keep = {"key", "PRNGKey", "split", "fold_in", "key_data", "clone", "key_impl",
            "key_dtype", "wrap_key_data", "KeyArray"}
    g = globals()
    for name in __all__:
        if name not in keep:
            g[name] = _as_constants(g[name])


_samples_as_constants()
