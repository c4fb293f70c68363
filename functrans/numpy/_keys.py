"""Typed keys (functrans.random's ``key<fry>`` arrays) in the structural functions of
functrans.numpy and functrans.lax, by one mechanism: the function applied to each of the
keys' two ``uint32`` words.

A key array is two words of the keys' shape; a function that only moves, copies or selects
elements (``transpose``, ``take``, ``split``, ``dynamic_slice``...) gives the keys' result when
applied to the first words and to the second words. The functions named in the tables below
are wrapped (the wrapper has the function's own signature): a call whose first operand is
not a key array runs the function untouched, and only if it fails with a key among the
operands (a key array has no backend, so it fails) is it run again on the words; a first
operand of keys goes to the words at once. Each table entry says which parameters may hold
keys: keys anywhere else (an index, a condition) and non-keys beside keys (numbers to stack
with keys) are refused, as JAX refuses them, instead of being computed on the words.

The hottest structural functions (``reshape``, ``where``, ``stack``, ``concat``...) are not
wrapped: they catch the failure themselves (``_typed_keys`` in ._base, free while nothing is
raised) and apply themselves to the words by functrans.random's ``_on_words``; ``equal``,
``not_equal`` and ``isnan``/``isinf``/``isfinite`` likewise, in their factories. The refusal of
keys by every other function is at the backend look-up (functrans.backends), which names
the function called.
"""

from __future__ import annotations

import functools
import inspect
import sys

from .. import dtypes as _dt

KeyArray = None  # functrans.random.KeyArray, set when functrans.random is imported


def _key_array_type():
    from ..random import KeyArray
    return KeyArray


def _leaves(v):
    """The values inside nested lists and tuples (a stack's arrays, a block's rows)."""
    if type(v) in (list, tuple):
        for o in v:
            yield from _leaves(o)
    elif type(v) is dict:  # (keyword arguments collected by **kwargs)
        for o in v.values():
            yield from _leaves(o)
    else:
        yield v


def _describe(v):
    if hasattr(v, "shape") and hasattr(v, "dtype"):
        return f"values of dtype {v.dtype}"
    if isinstance(v, (bool, int, float, complex)):
        return f"a Python {type(v).__name__}"
    return f"{getattr(v, '__name__', v)!s}"


def _has_keys(args, kwargs):
    K = _key_array_type()
    for v in (*args, *kwargs.values()):
        for leaf in _leaves(v):
            if type(leaf) is K or isinstance(leaf, _dt.KeyDType):
                return True
    return False


def _words(v, i, K, wide=False):
    """``v`` with each key array in it replaced by its word ``i`` (``_w0``/``_w1``), as int64
    where ``wide`` (see functrans.random._widen)."""
    if type(v) in (list, tuple):
        return type(v)(_words(o, i, K, wide) for o in v)
    if type(v) is K:
        from ..random import _widen
        return _widen(v._w1 if i else v._w0, wide)
    return v


def _first_key(v, K):
    for leaf in _leaves(v):
        if type(leaf) is K:
            return leaf
    return None


def _join(r0, r1, K, name):
    """The results of the two word calls as key arrays (lists and tuples kept)."""
    if type(r0) in (list, tuple):
        return type(r0)(_join(a, b, K, name) for a, b in zip(r0, r1))
    for w in (r0, r1):  # (a structural function gives words of the words' dtype)
        if getattr(w, "dtype", None) is None or _dt.dtype_of(w) is not _dt.uint32:
            raise refusal(name, f"it gives {type(w).__name__} on the keys' words, not keys")
    return K(r0, r1)


def refusal(name, what):
    """The TypeError for typed keys where ``name`` cannot take them."""
    return TypeError(f"{name}: {what}; typed keys (dtype key<fry>) only take structural "
                     f"operations (reshaping, indexing, joining, selecting), as JAX's; "
                     f"functrans.random.key_data(keys) gives their uint32 data and "
                     f"functrans.random.wrap_key_data makes keys of uint32 data")


def _on_words(fn, name, sig, spec, args, kwargs):
    """``fn(*args, **kwargs)`` for operands holding typed keys: on the words, or refused."""
    K = _key_array_type()
    keys, kind, check, numbers = spec
    bound = sig.bind(*args, **kwargs)  # (a wrong call is reported by the call itself)
    given = bound.arguments
    dtype_kw = None
    for pname, v in given.items():
        leaves = list(_leaves(v))
        if pname == "dtype" and v is not None:
            dtype_kw = v
            continue
        if pname in numbers and type(v) is int and 0 <= v < 2 ** 32:
            continue  # (a fill value: the key whose two words are it, as JAX's)
        if pname in keys:
            for leaf in leaves:
                if leaf is not None and type(leaf) is not K and \
                        not isinstance(leaf, _dt.KeyDType):
                    raise refusal(name, f"cannot combine typed keys with {_describe(leaf)} "
                                        f"(its {pname!r})")
        elif any(type(leaf) is K for leaf in leaves):
            raise refusal(name, f"its {pname!r} cannot be typed keys")
    if check is not None:
        why = check(given, K)
        if why:
            raise refusal(name, why)
    if callable(kind):  # a function of its own on keys (isin, result_type)
        return kind(**given)
    key_dtype = dtype_kw is not None and isinstance(dtype_kw, _dt.KeyDType)
    if dtype_kw is not None and not key_dtype:
        if kind != "like" or any(type(leaf) is K for p in keys[1:]
                                 for leaf in _leaves(given.get(p))):
            raise refusal(name, f"typed keys cannot be cast to {dtype_kw!r}")
        # zeros_like(keys, dtype=float32): only the keys' shape is used
        bound.arguments = {p: _words(v, 0, K) for p, v in given.items()}
        return fn(*bound.args, **bound.kwargs)
    from ..random import _I64, _arith, _narrow
    first = _first_key(list(given.values()), K)
    wide = first is not None and _arith(first._w0) is _I64
    word_dtype = _dt.int64 if wide else _dt.uint32
    results = []
    for i in (0, 1):
        bound.arguments = {p: (word_dtype if p == "dtype" and key_dtype
                               else _words(v, i, K, wide)) for p, v in given.items()}
        results.append(fn(*bound.args, **bound.kwargs))
    r0, r1 = results
    if kind in ("all", "any"):
        return _joined(kind, r0, r1)
    return _join(_narrow(r0, wide), _narrow(r1, wide), K, name)


def _joined(kind, r0, r1):
    if type(r0) is bool:  # (array_equal's Python bool)
        return (r0 and r1) if kind == "all" else (r0 or r1)
    if kind == "all":  # a comparison: equal where both words are
        from ._elementwise import logical_and
        return logical_and(r0, r1)
    from ._elementwise import logical_or
    return logical_or(r0, r1)


def compare_keys(fn, name, kind, x1, x2):
    """``fn(x1, x2)`` (``equal``, ``not_equal``) on typed keys: on each word, the two results
    joined by and ('all') or or ('any'); keys beside other values are refused."""
    K = _key_array_type()
    for x in (x1, x2):
        if type(x) is not K:
            raise refusal(name, f"cannot compare typed keys with {_describe(x)}")
    from ..random import _I64, _arith, _widen
    wide = _arith(x1._w0) is _I64
    return _joined(kind, fn(_widen(x1._w0, wide), _widen(x2._w0, wide)),
                   fn(_widen(x1._w1, wide), _widen(x2._w1, wide)))


def takes_keys(fn, name, keys, kind="map", check=None, numbers=()):
    """``fn`` taking typed keys in its parameters ``keys`` (names), applied to their words.
    ``kind``: 'map' (the result is keys: arrays or lists of them), 'like' (only the keys'
    shape is used: a non-key ``dtype`` gives that dtype's array), 'all'/'any' (a comparison:
    the words' boolean results joined by and/or), or a function called with the arguments
    by name instead (where the words cannot be taken apart: ``isin``). ``check(given,
    KeyArray)``, if any, returns why a call is refused (or None). ``numbers``: parameters
    (a fill value) that may also be a Python int, the key both of whose words it is.

    The wrapper has ``fn``'s own signature (written out and compiled once), so that a call
    without keys costs what a call of ``fn`` does plus one type check: no packing of
    ``*args``/``**kwargs`` (measured: ~60 ns more per call with them)."""
    sig = inspect.signature(fn)
    for p in keys:
        if p not in sig.parameters:
            raise ValueError(f"{name} has no parameter {p!r}")
    spec = (tuple(keys), kind, check, frozenset(numbers))
    P = inspect.Parameter
    params, call, pos, kws, scope = [], [], [], [], {}
    star = False
    code = getattr(fn, "__code__", None)
    passes_through = code is not None and (code.co_flags & 0xC) == 0xC  # fn(*args, **kwargs)
    # (a wrapper itself, such as creation functions' ``.at`` one: forward only what is given,
    # every argument spelt out costs it more than packing them here)
    parameters = ([P("args", P.VAR_POSITIONAL), P("kwargs", P.VAR_KEYWORD)] if passes_through
                  else list(sig.parameters.values()))
    for i, p in enumerate(parameters):
        n = p.name
        d = ""
        if p.default is not P.empty:
            scope[f"_d_{n}"] = p.default
            d = f"=_d_{n}"
        if p.kind is P.VAR_POSITIONAL:
            params.append(f"*{n}")
            call.append(f"*{n}")
            pos.append(f"*{n}")
            star = True
        elif p.kind is P.VAR_KEYWORD:
            params.append(f"**{n}")
            call.append(f"**{n}")
            kws.append(f"**{n}")
        elif p.kind is P.KEYWORD_ONLY:
            if not star:
                params.append("*")
                star = True
            params.append(f"{n}{d}")
            call.append(f"{n}={n}")
            kws.append(f"{n!r}: {n}")
        else:
            params.append(f"{n}{d}")
            call.append(n)
            pos.append(n)
        if p.kind is P.POSITIONAL_ONLY and (
                i + 1 == len(parameters) or parameters[i + 1].kind is not P.POSITIONAL_ONLY):
            params.append("/")
    first = next((p.name for p in parameters if p.kind in (
        P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)), None)
    if passes_through:
        first = "(args[0] if args else None)"
    args, kwargs = f"({', '.join(pos)}{',' if len(pos) == 1 else ''})", f"{{{', '.join(kws)}}}"
    # keys as the first operand go to the words at once: the ordinary call would fail only
    # after some work (under jit, equations staged for nothing)
    test = f"type({first}) is not _m.KeyArray" if first else "True"
    src = (f"def {fn.__name__}({', '.join(params)}):\n"
           f"    if {test}:\n"
           f"        try:\n"
           f"            return _fn({', '.join(call)})\n"
           f"        except Exception:\n"
           f"            if not _m._has_keys({args}, {kwargs}):\n"
           f"                raise\n"
           f"    return _m._on_words(_fn, _name, _sig, _spec, {args}, {kwargs})\n")
    # (__name__: the wrapper's frames are functrans's own, as functrans.numpy asks who
    # called a function by its frames' module)
    scope.update(_fn=fn, _name=name, _sig=sig, _spec=spec, _m=sys.modules[__name__],
                 __name__=__name__)
    exec(compile(src, f"<functrans.numpy._keys: {name}>", "exec"), scope)
    wrapper = functools.wraps(fn)(scope[fn.__name__])
    wrapper._takes_keys = spec
    return wrapper


def wrap_table(namespace, prefix, table):
    """Wrap the functions of ``namespace`` (a module's globals) named in ``table``:
    ``{name: (key parameters, kind[, check[, numbers]])}`` (see :func:`takes_keys`)."""
    wrapped = {}
    for n, entry in table.items():
        keys, kind, *rest = entry
        wrapped[id(namespace[n])] = namespace[n] = takes_keys(namespace[n], f"{prefix}.{n}",
                                                              keys, kind, *rest)
    for n, v in list(namespace.items()):  # the functions' other names (row_stack = vstack)
        w = wrapped.get(id(v))
        if w is not None and w.__wrapped__ is v:
            namespace[n] = w


# -- the tables -------------------------------------------------------------------------------


def _pad_check(given, K):
    mode = given.get("mode", "constant")
    if mode not in ("edge", "wrap", "reflect", "symmetric"):
        return (f"mode={mode!r} is refused (it pads with numbers or statistics); the modes "
                f"that copy elements ('edge', 'wrap', 'reflect', 'symmetric') take keys")
    return None


def _not_in_place(given, K):
    if given.get("inplace", True):
        return "keys are not written in place; pass inplace=False (as JAX requires)"
    return None


def _isin(element, test_elements, assume_unique=False, invert=False, kind=None,
          method="auto"):
    # each key against every test key: keys have no order to sort and search by
    from . import any as any_, equal, expand_dims, logical_not, ravel
    found = any_(equal(expand_dims(element, -1), ravel(test_elements)), axis=-1)
    return logical_not(found) if invert else found


def _result_type(arrays_and_dtypes):
    if all(isinstance(getattr(a, "dtype", a), _dt.KeyDType) for a in arrays_and_dtypes):
        return _dt.key_fry
    raise refusal("functrans.numpy.result_type", "typed keys promote with no other dtype")


NUMPY = {
    "transpose": (("a",), "map"), "swapaxes": (("a",), "map"),
    "moveaxis": (("a",), "map"), "rollaxis": (("a",), "map"),
    "ravel": (("a",), "map"), "copy": (("a",), "map"),
    "array": (("object",), "map"),
    "take": (("a",), "map"), "take_along_axis": (("arr",), "map"),
    "tile": (("A",), "map"), "repeat": (("a",), "map"), "roll": (("a",), "map"),
    "resize": (("a",), "map"),
    "split": (("ary",), "map"), "array_split": (("ary",), "map"),
    "hsplit": (("ary",), "map"), "vsplit": (("ary",), "map"), "dsplit": (("ary",), "map"),
    "unstack": (("x",), "map"),
    "atleast_1d": (("arys",), "map"), "atleast_2d": (("arys",), "map"),
    "atleast_3d": (("arys",), "map"),
    "dstack": (("tup",), "map"), "column_stack": (("tup",), "map"),
    "flipud": (("m",), "map"), "fliplr": (("m",), "map"), "rot90": (("m",), "map"),
    "diagonal": (("a",), "map"), "tril": (("m",), "map"), "triu": (("m",), "map"),
    "delete": (("arr",), "map"), "insert": (("arr", "values"), "map"),
    "compress": (("a",), "map"), "extract": (("arr",), "map"),
    "select": (("choicelist", "default"), "map"),  # (its default 0 is no key: refused)
    "meshgrid": (("arrays",), "map"),
    "pad": (("array",), "map", _pad_check),
    "place": (("arr", "vals"), "map", _not_in_place),
    "put": (("a", "v"), "map", _not_in_place),
    "fill_diagonal": (("a", "val"), "map", _not_in_place),
    "zeros_like": (("a",), "like"), "ones_like": (("a",), "like"),
    "empty_like": (("prototype",), "like"),
    "full_like": (("a", "fill_value"), "like", None, ("fill_value",)),
    "zeros": ((), "map"), "ones": ((), "map"), "empty": ((), "map"),
    "full": (("fill_value",), "map", None, ("fill_value",)),
    "vstack": (("tup",), "map"), "hstack": (("tup",), "map"), "block": (("arrays",), "map"),
    "append": (("arr", "values"), "map"), "broadcast_arrays": (("arrays",), "map"),
    "choose": (("choices",), "map"), "diag": (("v",), "map"), "diagflat": (("v",), "map"),
    "real": (("val",), "map"), "imag": (("val",), "map"), "conj": (("x",), "map"),
    "nan_to_num": (("x",), "map"),
    "array_equal": (("a1", "a2"), "all"), "array_equiv": (("a1", "a2"), "all"),
    "stop_gradient": (("x",), "map"),
    "iscomplexobj": (("x",), "any"), "isrealobj": (("x",), "all"),
    "isin": (("element", "test_elements"), _isin),
    "result_type": (("arrays_and_dtypes",), _result_type),
}


def _convert(operand, new_dtype):
    if isinstance(new_dtype, _dt.KeyDType):  # (keys to keys: themselves, as JAX's)
        return operand
    raise refusal("functrans.lax.convert_element_type", f"typed keys cannot be cast to "
                                                         f"{new_dtype!r}")


LAX = {
    "dynamic_slice": (("operand",), "map"),
    "dynamic_update_slice": (("operand", "update"), "map"),
    "dynamic_slice_in_dim": (("operand",), "map"),
    "dynamic_update_slice_in_dim": (("operand", "update"), "map"),
    "dynamic_index_in_dim": (("operand",), "map"),
    "dynamic_update_index_in_dim": (("operand", "update"), "map"),
    "select": (("on_true", "on_false"), "map"),
    "select_n": (("cases",), "map"),
    "concatenate": (("operands",), "map"),
    "slice": (("operand",), "map"), "slice_in_dim": (("operand",), "map"),
    "index_in_dim": (("operand",), "map"), "collapse": (("operand",), "map"),
    "pad": (("operand", "padding_value"), "map"),
    "gather": (("operand",), "map"), "index_take": (("src",), "map"),
    "scatter": (("operand", "updates"), "map"),
    "full": (("fill_value",), "map", None, ("fill_value",)),
    "full_like": (("x", "fill_value"), "like", None, ("fill_value",)),
    "empty": ((), "map"),
    "eq": (("x", "y"), "all"), "ne": (("x", "y"), "any"),
    "convert_element_type": (("operand",), _convert),
}
