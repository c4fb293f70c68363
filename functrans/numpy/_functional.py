"""NumPy's names that take a Python function: ``vectorize``, ``fromfunction`` and
``mask_indices``."""

from __future__ import annotations

import operator

import functools
import math
import re

from ..errors import AxisError, ConcretizationError, ShapeError

__all__ = ["vectorize", "fromfunction", "mask_indices", "ufunc", "frompyfunc"]

_DIMS = r"\(\s*(?:\w+(?:\s*,\s*\w+)*)?\s*\)"
_SIGNATURE = re.compile(rf"^{_DIMS}(?:\s*,\s*{_DIMS})*\s*->\s*{_DIMS}(?:\s*,\s*{_DIMS})*$")


def _parse_signature(signature):
    """NumPy's generalized-ufunc signature "(m,n),(n)->(m)" as lists of core dimension names
    for the inputs and the outputs."""
    if not _SIGNATURE.match(signature.strip()):
        raise ValueError(f"vectorize: not a valid gufunc signature: {signature!r}")
    ins, outs = signature.split("->")

    def groups(s):
        return [tuple(d.strip() for d in g.split(",") if d.strip())
                for g in re.findall(r"\(([^)]*)\)", s)]
    return groups(ins), groups(outs)


class vectorize:
    """NumPy's (and JAX's) ``vectorize``: ``pyfunc`` applied over the broadcast leading
    ("loop") axes of its arguments, each argument keeping its core axes (all of them scalars
    without ``signature``; with one, e.g. ``"(n),(n)->()"``, its trailing axes as named).

    The loop runs as one :func:`functrans.vmap` call (so it is vectorised and works under
    every transform); where ``pyfunc`` needs concrete values (Python ``if`` on an element)
    and the values are concrete, it falls back to NumPy's Python loop over the elements.
    ``excluded``: positions or keyword names passed through unvectorised. ``otypes``
    (a dtype or sequence of them) casts the outputs; ``cache`` and ``doc`` as NumPy's."""

    def __init__(self, pyfunc=None, otypes=None, doc=None, excluded=None, cache=False,
                 signature=None):
        if pyfunc is None:  # used as a decorator with arguments
            self._pending = dict(otypes=otypes, doc=doc, excluded=excluded, cache=cache,
                                 signature=signature)
            return
        self._pending = None
        self.pyfunc = pyfunc
        self.otypes = otypes
        self.excluded = frozenset(excluded or ())
        negative = sorted(e for e in self.excluded if isinstance(e, int) and e < 0)
        if negative:  # (NumPy ignores them silently: the argument would be vectorised)
            raise ValueError(f"vectorize: excluded positions must be non-negative; got "
                             f"{negative} (count positions from 0)")
        self.signature = signature
        self._core = _parse_signature(signature) if signature is not None else None
        functools.update_wrapper(self, pyfunc, updated=())
        if doc is not None:
            self.__doc__ = doc

    def __call__(self, *args, **kwargs):
        if self._pending is not None:  # @vectorize(signature=...) def f(...)
            return vectorize(args[0], **self._pending)
        return _vectorized_call(self, args, kwargs)


def _vectorized_call(vec, args, kwargs):
    from .. import numpy as fnp
    from ..batching import vmap

    fixed_kw = {k: v for k, v in kwargs.items() if k in vec.excluded}
    mapped_kw = {k: v for k, v in kwargs.items() if k not in vec.excluded}
    pos = [i for i in range(len(args)) if i not in vec.excluded]
    names = list(mapped_kw)
    raw = [args[i] for i in pos] + [mapped_kw[k] for k in names]
    # Python numbers beside arrays are made on the arrays' library and device
    like = next((x for x in raw if hasattr(x, "shape")), None)
    dev = None if like is None else fnp.device(like)
    operands = [fnp.asarray(x) if hasattr(x, "shape") or dev is None
                else fnp.asarray(x, device=dev) for x in raw]
    if vec._core is not None:
        in_core, out_core = vec._core
        if len(in_core) != len(operands):
            raise TypeError(f"vectorize: the signature {vec.signature!r} has {len(in_core)} "
                            f"inputs; got {len(operands)} (not excluded) arguments")
    else:
        in_core, out_core = [()] * len(operands), None
    sizes = {}
    loop_shapes = []
    for x, core in zip(operands, in_core):
        shape = tuple(x.shape)
        if len(shape) < len(core):
            raise ShapeError(f"vectorize: an argument of shape {shape} has fewer axes than "
                             f"its core dimensions {core} in {vec.signature!r}")
        for name, n in zip(core, shape[len(shape) - len(core):]):
            if sizes.setdefault(name, n) != n:
                raise ShapeError(f"vectorize: core dimension {name!r} is {sizes[name]} and "
                                 f"{n} in two arguments ({vec.signature!r})")
        loop_shapes.append(shape[:len(shape) - len(core)])
    loop = fnp.broadcast_shapes(*loop_shapes) if loop_shapes else ()
    n_loop = math.prod(loop)

    def call(*xs):
        a = list(args)
        for i, x in zip(pos, xs):
            a[i] = x
        kw = dict(fixed_kw)
        kw.update(zip(names, xs[len(pos):]))
        return vec.pyfunc(*a, **kw)

    flat = [fnp.reshape(fnp.broadcast_to(x, loop + tuple(x.shape[len(ls):])),
                        (n_loop,) + tuple(x.shape[len(ls):]))
            for x, ls in zip(operands, loop_shapes)]
    if not loop:
        out = call(*operands)
    elif n_loop == 0:
        return _empty_loop(vec, operands, loop, sizes, out_core)
    else:
        try:
            out = vmap(call)(*flat)
        except ConcretizationError:
            if not all(_is_concrete(x) for x in flat):
                raise
            # pyfunc branches on values: NumPy's own loop, one call per element
            results = [call(*(x[i] for x in flat)) for i in range(n_loop)]
            if isinstance(results[0], tuple):
                out = tuple(fnp.stack([fnp.asarray(r[j]) for r in results])
                            for j in range(len(results[0])))
            else:
                out = fnp.stack([fnp.asarray(r) for r in results])
    return _finish(vec, out, loop, out_core, sizes)


def _is_concrete(x):
    from ._base import _concrete_value
    return _concrete_value(x) is not None


def _otypes(vec):
    """``otypes`` as a list of dtypes or None (a string is NumPy's type codes, one a
    character: ``'f'`` float32, ``'d'`` float64...)."""
    otypes = vec.otypes
    if isinstance(otypes, str):
        import numpy as _np  # (type codes only)
        otypes = [_np.dtype(c) for c in otypes]
    return otypes


def _empty_loop(vec, operands, loop, sizes, out_core):
    """A size-0 loop: as NumPy, empty outputs of the ``otypes`` (the function is never
    called, so they are needed), with core dimensions known from the inputs."""
    from .. import numpy as fnp
    otypes = _otypes(vec)
    if otypes is None:
        raise ValueError("vectorize: cannot call the function on a size-0 loop; pass otypes "
                         "(as NumPy needs)")
    otypes = list(otypes) if isinstance(otypes, (list, tuple)) else [otypes]
    cores = out_core if out_core is not None else [()] * len(otypes)
    if len(cores) != len(otypes):
        raise TypeError(f"vectorize: the signature {vec.signature!r} has {len(cores)} "
                        f"outputs and otypes {len(otypes)}")
    res = []
    for core, dt in zip(cores, otypes):
        unknown = [d for d in core if d not in sizes]
        if unknown:
            raise ValueError(f"vectorize: cannot call the function on a size-0 loop: the "
                             f"output core dimensions {unknown} are not given by the inputs")
        dev = fnp.device(operands[0]) if operands else None
        res.append(fnp.zeros(loop + tuple(sizes[d] for d in core), dtype=dt, device=dev))
    return tuple(res) if len(res) > 1 else res[0]


def _finish(vec, out, loop, out_core, sizes):
    from .. import numpy as fnp
    sizes = dict(sizes)  # (the outputs' own core dimensions join it)
    many = isinstance(out, tuple)
    outs = list(out) if many else [out]
    if out_core is not None and len(out_core) != len(outs):
        raise TypeError(f"vectorize: the signature {vec.signature!r} has {len(out_core)} "
                        f"outputs; the function returned {len(outs)}")
    otypes = _otypes(vec)
    res = []
    for k, o in enumerate(outs):
        o = fnp.asarray(o)
        core = tuple(o.shape[1:]) if loop else tuple(o.shape)
        if out_core is not None and len(core) != len(out_core[k]):
            raise ShapeError(f"vectorize: output {k} has core shape {core}; the signature "
                             f"{vec.signature!r} says {out_core[k]}")
        for name, n in zip(out_core[k] if out_core is not None else (), core):
            if sizes.setdefault(name, n) != n:
                raise ShapeError(f"vectorize: output {k} has core shape {core}, but core "
                                 f"dimension {name!r} is {sizes[name]} elsewhere "
                                 f"({vec.signature!r})")
        if loop:
            o = fnp.reshape(o, loop + core)
        if otypes is not None:
            o = fnp.astype(o, otypes[k] if isinstance(otypes, (list, tuple)) else otypes)
        res.append(o)
    return tuple(res) if many else res[0]


def fromfunction(function, shape, *, dtype=float, like=None, **kwargs):
    """``function(*indices(shape, dtype), **kwargs)``: an array built from the coordinates
    of its elements, as NumPy's (``function`` receives whole index arrays, once); with
    ``like=``, the index arrays are made in that array's library and on its device."""
    if like is not None:
        from .. import dtypes as _dt
        from .. import numpy as fnp
        dims = tuple(operator.index(d) for d in shape)
        dt = _dt.int64 if dtype is int else _dt.as_dtype(dtype)
        grids = []
        for i, d in enumerate(dims):
            v = fnp.reshape(fnp.arange(d, dtype=dt, like=like),
                            tuple(d if k == i else 1 for k in range(len(dims))))
            grids.append(fnp.broadcast_to(v, dims))
        return function(*grids, **kwargs)
    from ._reshaping import indices
    ix = indices(tuple(shape), dtype=dtype)  # (by index: array-api-strict's don't iterate)
    return function(*[ix[i, ...] for i in range(ix.shape[0])], **kwargs)


def mask_indices(n, mask_func, k=0, *, size=None):
    """The indices (row array, column array) of the entries of an ``(n, n)`` array that
    ``mask_func(ones((n, n)), k)`` leaves non-zero (``triu``, ``tril``...), as NumPy's.
    ``size`` (jax.numpy's) makes each array exactly ``size`` long, as :func:`nonzero`'s (the
    first ``size`` positions, then zeros)."""
    from .. import numpy as fnp
    from ._creation import ones
    return fnp.nonzero(mask_func(ones((n, n), dtype=fnp.int64), k) != 0, size=size)


# -- ufunc, frompyfunc ---------------------------------------------------------------------------


class _UfuncType(type):
    """``isinstance(fnp.add, fnp.ufunc)`` is true, as ``isinstance(np.add, np.ufunc)`` and
    JAX's: functrans's elementwise functions that have the ufunc methods (``add``,
    ``multiply``, ``maximum``, ``negative``...) are plain functions marked as ufuncs."""

    def __instancecheck__(cls, obj):
        return type.__instancecheck__(cls, obj) or (
            type(obj) is _FunctionType and obj.__dict__.get("_functrans_ufunc") is True)


_FunctionType = type(mask_indices)


class ufunc(metaclass=_UfuncType):
    """A universal function made from a Python function of scalars (``jax.numpy.ufunc``):
    calling it broadcasts its ``nin`` arguments and applies ``func`` elementwise (through
    :func:`vectorize`, one ``vmap``); ``reduce``, ``accumulate``, ``outer``, ``at`` and
    ``reduceat`` work for binary functions of one output, as NumPy's ufunc methods do.

    ``func`` must be written with traceable operations (functrans.numpy / lax) to be
    vectorised, differentiated and staged. ``call``, ``reduce``, ``accumulate``, ``at`` and
    ``reduceat`` may give faster implementations of the same operations.

    ``reduce`` folds from the left, starting with the first element (``identity`` only for
    an empty axis), as NumPy's ``reduce`` of a ufunc without a reorderable identity: for a
    function that is not associative this is NumPy's answer, not JAX's (which starts from the
    identity).

    ``isinstance(f, fnp.ufunc)`` is also true for functrans's own functions that have these
    methods: the binary elementwise ones (``add``, ``maximum``, ``logical_and``, ``power``,
    ``greater``...) and ``negative``, as for JAX's (NumPy's unary ``sin``... are ufuncs too;
    functrans's and JAX's are not)."""

    def __init__(self, func, /, nin, nout, *, name=None, nargs=None, identity=None, call=None,
                 reduce=None, accumulate=None, at=None, reduceat=None):
        nin, nout = operator.index(nin), operator.index(nout)
        if nin < 1 or nout < 1:
            raise ValueError(f"ufunc: nin and nout must be positive; got {nin}, {nout}")
        nargs = nin + nout if nargs is None else operator.index(nargs)
        # (set once: the properties below are read-only, as NumPy's and JAX's)
        object.__setattr__(self, "_key", (func, nin, nout, nargs, identity, call, reduce,
                                          accumulate, at, reduceat))
        object.__setattr__(self, "__name__", name or getattr(func, "__name__", "ufunc"))
        object.__setattr__(self, "_vectorized", vectorize(func))

    _func = property(lambda self: self._key[0])
    nin = property(lambda self: self._key[1], doc="The number of inputs.")
    nout = property(lambda self: self._key[2], doc="The number of outputs.")
    nargs = property(lambda self: self._key[3],
                     doc="The number of arguments, NumPy's ``nin + nout`` unless given.")
    identity = property(lambda self: self._key[4],
                        doc="The value an empty reduction gives (None: none).")
    _call, _reduce, _accumulate, _at, _reduceat = (
        property(lambda self, i=i: self._key[i]) for i in range(5, 10))

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} attributes are read-only (cannot set "
                             f"{name!r}); make a new ufunc")

    def __eq__(self, other):
        return type(other) is type(self) and (self.__name__, self._key) == (
            other.__name__, other._key)

    def __hash__(self):
        return hash((self.__name__, self._key))

    def __repr__(self):
        return f"<functrans.numpy.ufunc '{self.__name__}'>"

    def __call__(self, *args, out=None, where=None):
        if out is not None:
            raise NotImplementedError(f"{self.__name__}: out= is not supported (arrays are "
                                      f"not written in place); use the result")
        if len(args) != self.nin:
            raise TypeError(f"{self.__name__} takes {self.nin} positional argument(s); got "
                            f"{len(args)}")
        if where is not None:
            raise NotImplementedError(f"{self.__name__}: where= is not supported; use "
                                      f"functrans.numpy.where on the result")
        if self._call is None:
            empty = self._empty_call(args)
            if empty is not None:
                return empty
        return (self._call or self._vectorized)(*args)

    def _empty_call(self, args):
        """The result of a call whose broadcast shape has no elements (None otherwise):
        ``func`` never runs on an element, so it is run once on ones of the arguments'
        dtypes for the outputs' dtypes (the elementwise loop, a ``vmap``, cannot be)."""
        from .. import numpy as fnp
        if not any(hasattr(x, "shape") and 0 in tuple(x.shape) for x in args):
            return None
        shape = fnp.broadcast_shapes(*(tuple(getattr(x, "shape", ())) for x in args))
        if math.prod(shape) != 0:
            return None
        like = next(x for x in args if hasattr(x, "shape"))
        dev = fnp.device(like)
        probes = [fnp.ones((), dtype=fnp.result_type(x), device=fnp.device(x))
                  if hasattr(x, "shape") else x for x in args]
        out = self._func(*probes)
        outs = out if isinstance(out, tuple) else (out,)
        res = tuple(fnp.zeros(shape, dtype=fnp.result_type(o), device=dev) for o in outs)
        return res if isinstance(out, tuple) else res[0]

    def _binary(self, method):
        if self.nin != 2 or self.nout != 1:
            raise ValueError(f"{self.__name__}.{method} needs a function of two arguments and "
                             f"one output; this one has nin={self.nin}, nout={self.nout}")

    def reduce(self, a, axis=0, dtype=None, out=None, keepdims=False, initial=None,
               where=None):
        """Fold the function over ``axis`` (an int, a tuple of them for a function with an
        identity, or None for all), from the left: from ``initial`` if given, else from the
        first element. ``where`` (a boolean mask broadcast to ``a``) folds only the selected
        elements, from ``initial`` or the identity (one of them is needed), the result in
        ``a``'s dtype."""
        from .. import numpy as fnp
        self._binary("reduce")
        if self._reduce is not None:
            return self._reduce(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims,
                                initial=initial, where=where)
        if out is not None:
            raise NotImplementedError(f"{self.__name__}.reduce: out= is not supported (arrays "
                                      f"are not written in place); use the result")
        a = fnp.asarray(a) if dtype is None else fnp.asarray(a, dtype=dtype)
        nd = len(a.shape)
        if where is True:
            where = None
        mask = None
        if where is not None:
            where = where if hasattr(where, "shape") else fnp.asarray(where,
                                                                       device=fnp.device(a))
            mask = fnp.broadcast_to(where, tuple(a.shape))
        axes = None
        if isinstance(axis, tuple):
            axes = tuple(sorted(operator.index(v) % nd if -nd <= operator.index(v) < nd
                                else _axis_error(self.__name__, v, nd) for v in axis))
            if len(set(axes)) != len(axes):
                raise ValueError(f"{self.__name__}.reduce: duplicate value in axis {axis}")
            if len(axes) > 1 and self.identity is None:
                raise ValueError(f"{self.__name__}.reduce: without an identity the fold is "
                                 f"not reorderable, so at most one axis may be given (as "
                                 f"NumPy); got {axis}")
            if len(axes) == 1:
                axis, axes = axes[0], None
        if axes is not None:  # several axes (or none): one fold over them, in C order
            rest = tuple(d for i, d in enumerate(a.shape) if i not in axes)

            def folded(t):
                return fnp.reshape(fnp.moveaxis(t, axes, tuple(range(len(axes)))),
                                   (-1,) + rest)
            ax = None
        elif axis is None:
            def folded(t):
                return fnp.reshape(t, (-1,))
            ax = 0
        else:
            if not -nd <= axis < nd:
                _axis_error(self.__name__, axis, nd)
            ax = axis % nd

            def folded(t):
                return fnp.moveaxis(t, ax, 0)
        x = folded(a)
        start = initial if initial is not None else None
        if mask is not None:  # NumPy's: from initial (or the identity), skipping masked-out
            start = self.identity if start is None else start
            if start is None:
                raise ValueError(f"{self.__name__}.reduce: without an identity, where= needs "
                                 f"initial= (the value the fold starts from), as NumPy")
            from ..control_flow import scan
            m = folded(mask)
            carry = fnp.full(tuple(x.shape[1:]), start, dtype=a.dtype, device=fnp.device(a))

            def step(c, vm):  # (the result kept in a's dtype: the carry's)
                v, keep = vm
                return fnp.where(keep, fnp.astype(self(c, v), a.dtype), c), None
            res = scan(step, carry, (x, m))[0] if x.shape[0] else carry
        elif x.shape[0] == 0:
            start = self.identity if start is None else start
            if start is None:
                raise ValueError(f"{self.__name__}.reduce of an empty axis needs an identity "
                                 f"or initial=")
            res = fnp.full(tuple(x.shape[1:]), start, dtype=a.dtype)
        else:
            from ..control_flow import scan
            first = x[0, ...] if start is None else self(start, x[0, ...])
            res = scan(lambda c, v: (self(c, v), None), first, x[1:, ...])[0]
        if keepdims:
            if axes is not None:
                return fnp.reshape(res, tuple(1 if i in axes else d
                                              for i, d in enumerate(a.shape)))
            if axis is None:
                return fnp.reshape(res, (1,) * nd)
            res = fnp.expand_dims(res, axis=ax)
        return res

    def accumulate(self, a, axis=0, dtype=None, out=None):
        """The running fold along ``axis``: ``[a0, f(a0, a1), f(f(a0, a1), a2), ...]``."""
        from .. import numpy as fnp
        self._binary("accumulate")
        if self._accumulate is not None:
            return self._accumulate(a, axis=axis, dtype=dtype, out=out)
        if out is not None:
            raise NotImplementedError(f"{self.__name__}.accumulate: out= is not supported")
        a = fnp.asarray(a) if dtype is None else fnp.asarray(a, dtype=dtype)
        nd = len(a.shape)
        if not -nd <= axis < nd:
            raise AxisError(f"{self.__name__}.accumulate: axis {axis} is out of range for "
                            f"{nd} dimension(s)", axis, nd)
        x = fnp.moveaxis(a, axis, 0)
        if x.shape[0] == 0:
            return a
        from ..control_flow import scan

        def step(c, v):
            c = self(c, v)
            return c, c
        ys = scan(step, x[0, ...], x[1:, ...])[1]
        return fnp.moveaxis(fnp.concat([fnp.expand_dims(x[0, ...], axis=0), ys], axis=0), 0,
                            axis)

    def outer(self, a, b):
        """``f(a[..., None, ...], b)``: every pair of an element of ``a`` and one of ``b``,
        of shape ``a.shape + b.shape``."""
        from .. import numpy as fnp
        self._binary("outer")
        a, b = fnp.asarray(a), fnp.asarray(b)
        # (both at the result's rank: the pairing is no rank promotion of the caller's)
        return self(fnp.reshape(a, tuple(a.shape) + (1,) * len(b.shape)),
                    fnp.reshape(b, (1,) * len(a.shape) + tuple(b.shape)))

    def at(self, a, indices, b=None, /, *, inplace=False):
        """A new ``a`` with ``a[i] = f(a[i], b)`` for each index (repeated indices apply
        again, in order); ``inplace=True`` is refused, as in JAX."""
        from .. import numpy as fnp
        if self._at is not None:
            return self._at(a, indices, b, inplace=inplace)
        if inplace:
            raise NotImplementedError(f"{self.__name__}.at: inplace=True is not supported "
                                      f"(arrays are not changed in place); pass "
                                      f"inplace=False and use the result")
        a = fnp.asarray(a)
        if b is None:
            if self.nin != 1:
                raise TypeError(f"{self.__name__}.at needs the second operand b")
        else:
            self._binary("at")
        from ._indexing import _getitem, _setitem
        from ..control_flow import fori_loop
        shape = tuple(a.shape)
        size = 1
        for d in shape:
            size *= d
        # the flat positions ``a[indices]`` selects (any NumPy index: an int, a slice, an
        # array, a tuple of them), then one position at a time, in order
        pos = _getitem(fnp.reshape(fnp.arange(size, device=fnp.device(a)), shape), indices)
        p = fnp.reshape(pos, (-1,))
        n = p.shape[0]
        if b is not None and type(b) in (int, float, complex, bool):  # made on a's device
            b = fnp.full((), b, dtype=a.dtype, device=fnp.device(a))
        bs = None if b is None else fnp.reshape(
            fnp.broadcast_to(fnp.asarray(b), tuple(pos.shape)), (n,))

        def body(k, x):  # (take: k is traced under jit, and the arrays may be plain)
            i = fnp.take(p, k, axis=0)
            here = fnp.take(x, i, axis=0)
            new = self(here) if bs is None else self(here, fnp.take(bs, k, axis=0))
            return _setitem(x, i, new)
        return fnp.reshape(fori_loop(0, n, body, fnp.reshape(a, (size,))), shape)

    def reduceat(self, a, indices, axis=0, dtype=None, out=None):
        """NumPy's ``reduceat``: the fold of ``a[indices[i]:indices[i+1]]`` along ``axis`` for
        each ``i`` (just ``a[indices[i]]`` where ``indices[i] >= indices[i+1]``); the indices
        must be concrete."""
        from .. import numpy as fnp
        self._binary("reduceat")
        if self._reduceat is not None:
            return self._reduceat(a, indices, axis=axis, dtype=dtype, out=out)
        from ._elementwise import _reduceat
        a = fnp.asarray(a) if dtype is None else fnp.asarray(a, dtype=dtype)
        return _reduceat(self.__name__, lambda seg: self.reduce(seg, axis=0), a, indices,
                         axis)


def _axis_error(name, axis, nd):
    raise AxisError(f"{name}.reduce: axis {axis} is out of range for {nd} dimension(s)", axis,
                    nd)


def frompyfunc(func, /, nin, nout, *, identity=None):
    """``ufunc(func, nin, nout, identity=identity)`` (``jax.numpy.frompyfunc``; NumPy's makes
    an object-dtype ufunc, this one keeps the arguments' dtypes)."""
    return ufunc(func, nin, nout, identity=identity)
