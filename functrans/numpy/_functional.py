"""NumPy's names that take a Python function: ``vectorize``, ``fromfunction`` and
``mask_indices``."""

from __future__ import annotations

import functools
import math
import re

from ..errors import ConcretizationError, ShapeError

__all__ = ["vectorize", "fromfunction", "mask_indices"]

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
    operands = [fnp.asarray(args[i]) for i in pos] + [fnp.asarray(mapped_kw[k]) for k in names]
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
    return _finish(vec, out, loop, out_core)


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


def _finish(vec, out, loop, out_core):
    from .. import numpy as fnp
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
        if loop:
            o = fnp.reshape(o, loop + core)
        if otypes is not None:
            o = fnp.astype(o, otypes[k] if isinstance(otypes, (list, tuple)) else otypes)
        res.append(o)
    return tuple(res) if many else res[0]


def fromfunction(function, shape, *, dtype=float, like=None, **kwargs):
    """``function(*indices(shape, dtype), **kwargs)``: an array built from the coordinates
    of its elements, as NumPy's (``function`` receives whole index arrays, once)."""
    if like is not None:
        raise NotImplementedError("fromfunction: like= is not supported")
    from ._reshaping import indices
    return function(*indices(tuple(shape), dtype=dtype), **kwargs)


def mask_indices(n, mask_func, k=0):
    """The indices (row array, column array) of the entries of an ``(n, n)`` array that
    ``mask_func(ones((n, n)), k)`` leaves non-zero (``triu``, ``tril``...), as NumPy's."""
    from .. import numpy as fnp
    from ._creation import ones
    return fnp.nonzero(mask_func(ones((n, n), dtype=fnp.int64), k) != 0)
