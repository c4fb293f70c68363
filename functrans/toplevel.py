"""JAX's smaller top-level names, for programs written for JAX: devices and processes,
``device_get``, ``typeof``, ``Array``, ``clear_caches``, ``named_call``/``named_scope``,
``ensure_compile_time_eval``, ``custom_gradient``, ``float0`` and ``checkpoint`` with JAX's
keyword arguments (``policy=``)."""

from __future__ import annotations

import contextlib
import functools
import warnings

import numpy as np

from . import backends as _backends
from . import dtypes as _dt
from .core import _SCALAR_DTYPES, ShapedArray, Tracer, get_aval

__all__ = ["Array", "checkpoint", "clear_caches", "custom_gradient", "default_backend_name",
           "device_count", "device_get", "devices", "effects_barrier",
           "ensure_compile_time_eval", "float0",
           "local_device_count", "local_devices", "named_call", "named_scope",
           "process_count", "process_index", "remat", "typeof", "fwd_and_bwd"]

# JAX's dtype of the tangents of integer values (grad(allow_int=True) gives integer inputs
# zero gradients of their own dtype): here for code that names it.
float0 = _dt.float0


# -- arrays ----------------------------------------------------------------------------------


class _ArrayMeta(type):
    def __instancecheck__(cls, x):
        if isinstance(x, Tracer):
            return True
        t = type(x)
        if t in _SCALAR_DTYPES or isinstance(x, (np.generic, type)):
            return False
        if _backends._by_type.get(t) is not None:
            return True
        if t.__name__ == "KeyArray" and t.__module__ == "functrans.random":
            return True  # typed keys are arrays (of dtype key<fry>), as JAX's
        if not (hasattr(x, "shape") and hasattr(x, "dtype")):
            return False
        try:
            _backends.resolve_type(t, x)
        except Exception:
            return False
        return True

    def __subclasscheck__(cls, t):
        if not isinstance(t, type):
            return False
        return issubclass(t, Tracer) or _backends._by_type.get(t) is not None


class Array(metaclass=_ArrayMeta):
    """The type of arrays, for ``isinstance`` checks and annotations (``jax.Array``): an
    array of any registered backend (NumPy, CuPy, torch, array-api-strict...) or a value
    being transformed (a tracer) is an instance; Python numbers and NumPy scalars are not.
    It cannot be instantiated: create arrays with ``functrans.numpy``."""

    def __new__(cls, *a, **k):
        raise TypeError("functrans.Array is for isinstance checks and annotations; create "
                        "arrays with functrans.numpy (fnp.asarray...).")


def typeof(x):
    """The abstract value of ``x`` (``jax.typeof``): a :class:`~functrans.core.ShapedArray`
    with ``shape``, ``dtype`` and ``weak_type`` (true for Python numbers); for typed keys
    (:mod:`functrans.random`) one of dtype ``key<fry>``."""
    try:
        return get_aval(x)
    except TypeError:  # (UnsupportedBackendError) typed keys have no backend of their own
        d = getattr(x, "dtype", None)
        if not isinstance(d, _dt.KeyDType):
            raise
        return ShapedArray(tuple(x.shape), d)


def device_get(x):
    """The pytree ``x`` with every array as a NumPy array on the host (``jax.device_get``):
    arrays of other libraries and devices are copied; NumPy arrays, Python numbers and other
    leaves are returned as they are. A value being transformed is an error (it would lose
    its derivative, or has no value yet under ``jit``)."""
    from .tree import tree_map

    def get(leaf):
        if isinstance(leaf, Tracer):
            return np.asarray(leaf)  # the error saying what to do
        b = _backends._by_type.get(type(leaf))
        if b is None:
            if type(leaf) in _SCALAR_DTYPES or isinstance(leaf, (np.ndarray, np.generic)) or \
                    not hasattr(leaf, "shape"):
                return leaf
            b = _backends.backend_of(leaf)
        return leaf if b.name == "numpy" else b.to_numpy(leaf)
    return tree_map(get, x)


# -- devices and processes ---------------------------------------------------------------------

_PLATFORM_BACKENDS = {"cpu": "numpy", "gpu": "cupy", "cuda": "cupy", "rocm": "cupy"}


def _backend_named(backend):
    if backend is None:
        return _backends.default()
    if isinstance(backend, _backends.Backend):
        return backend
    if not isinstance(backend, str):
        raise TypeError(f"devices: backend must be None, a platform name ('cpu', 'gpu') or a "
                        f"functrans backend's name; got {backend!r}.")
    return _backends.get_backend(_PLATFORM_BACKENDS.get(backend.lower(), backend))


def devices(backend=None):
    """The devices of a backend (``jax.devices``): ``backend`` is None (the default
    backend), a platform name (``"cpu"`` is NumPy, ``"gpu"`` CuPy) or a functrans backend's
    name (``"torch"``). The devices are the library's own objects (``"cpu"`` for NumPy,
    ``torch.device``...), as its Array API inspection namespace lists them (torch's
    ``meta`` device left out)."""
    b = _backend_named(backend)
    info = getattr(b.xp, "__array_namespace_info__", None)
    if info is None:
        return [b.xp.asarray(0).device] if hasattr(b.xp, "asarray") else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = list(info().devices())
    return [d for d in found if getattr(d, "type", None) != "meta"]


def local_devices(process_index=None, backend=None, host_id=None):
    """The devices of this process: :func:`devices` (one process)."""
    if process_index not in (None, 0) or host_id not in (None, 0):
        raise ValueError("local_devices: functrans runs in one process, whose index is 0.")
    return devices(backend)


def device_count(backend=None):
    """The number of devices of a backend (see :func:`devices`)."""
    return len(devices(backend))


def local_device_count(backend=None):
    """The number of devices of this process (:func:`device_count`: one process)."""
    return device_count(backend)


def process_index(backend=None):
    """The index of this process: 0 (functrans runs in one process)."""
    return 0


def process_count(backend=None):
    """The number of processes: 1."""
    return 1


def default_backend_name():
    """The name of the default backend (``"numpy"``...)."""
    return _backends.default().name


# -- caches, names, staging ----------------------------------------------------------------------


def effects_barrier():
    """Wait until every callback (``debug.print``, ``debug.callback``, ``io_callback``)
    called so far has run (``jax.effects_barrier``). functrans runs callbacks when the
    operation is evaluated, eagerly or as a jitted graph runs, never in the background, so
    they have all run already: this returns at once, for code written for JAX."""


def clear_caches():
    """Forget every cached staged graph (``jax.clear_caches``): those of every jitted
    function, of staged Hessian-vector products, and the plans of checkpointed functions.
    The next calls stage (and plan) again."""
    from . import checkpointing, compiling, trace_cache
    checkpointing.clear_cache()
    for f in list(compiling._JITTED):
        f.clear_cache()
    with trace_cache._lock:
        trace_cache._cache.clear()
    compiling._DICT_TREES.clear()


def named_call(fun, *, name=None):
    """``fun`` itself (``jax.named_call`` names a function in JAX's staged programs and
    profiles; functrans's graphs keep no names)."""
    if not callable(fun):
        raise TypeError(f"named_call expects a function; got {type(fun).__name__}.")
    return fun


def composite(decomposition, name, version=0):
    """``decomposition`` itself (``jax.lax.composite`` marks a function as one named operation
    that a compiler may replace by its own; functrans runs the decomposition, which defines
    the operation's values). ``name`` and ``version`` are checked as JAX checks them.

    Differences from JAX: every transform applies, through the decomposition (JAX 0.10.2
    has no JVP or batching rule for a composite: its ``grad``, ``jacfwd`` and ``vmap``
    raise, so wrap it in ``jax.custom_jvp`` there)."""
    if not callable(decomposition):
        raise TypeError(f"composite expects a function; got {type(decomposition).__name__}.")
    if not isinstance(name, str):
        raise TypeError(f"composite: name must be a string; got {type(name).__name__}.")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(f"composite: version must be a non-negative int; got {version!r}.")

    @functools.wraps(decomposition)
    def composite_fn(*args, **kwargs):
        return decomposition(*args, **kwargs)
    return composite_fn


@contextlib.contextmanager
def named_scope(name):
    """A context manager (or decorator) that does nothing here (``jax.named_scope`` names
    the operations of a block in JAX's staged programs and profiles)."""
    if not isinstance(name, str):
        raise TypeError(f"named_scope: the name must be a string; got {type(name).__name__}.")
    yield


@contextlib.contextmanager
def ensure_compile_time_eval():
    """A context manager that changes nothing here (``jax.ensure_compile_time_eval``):
    functrans's ``jit`` already computes at staging time every operation whose operands
    are all concrete (constants, closed-over arrays, static arguments), and records only
    those on its traced arguments, which this block cannot make concrete in JAX either."""
    yield


# -- custom_gradient ------------------------------------------------------------------------------


def custom_gradient(fun):
    """A function with its gradient given by ``fun`` itself (``jax.custom_gradient``):
    ``fun(*args)`` returns ``(value, vjp)``, where ``vjp(cotangent)`` gives the cotangents
    of the positional arguments (a tuple with one per argument; a single value for a
    function of one argument). Built on :class:`functrans.custom_vjp`: the same rules hold
    (the derivative with respect to a value ``fun`` closes over is an error; higher-order
    derivatives differentiate ``vjp``).

    Example:
        >>> @ft.custom_gradient
        ... def clipped(x):
        ...     return fnp.sin(x), lambda g: (fnp.clip(g, -0.5, 0.5) * fnp.cos(x),)
        >>> ft.grad(clipped)(0.0)
        array(0.5)
    """
    from .custom import custom_vjp

    def primal(*args):
        return _pair(fun(*args))[0]
    functools.update_wrapper(primal, fun)
    wrapped = custom_vjp(primal)

    def fwd(*args):
        value, vjp = _pair(fun(*args))
        return value, _Rule(vjp, len(args))

    def bwd(rule, ct):
        cts = rule.vjp(ct)
        if not isinstance(cts, (tuple, list)):
            cts = (cts,)
        cts = tuple(cts)
        if len(cts) != rule.n:
            raise TypeError(f"custom_gradient function {getattr(fun, '__name__', fun)}: its "
                            f"vjp returned {len(cts)} cotangent(s) for {rule.n} argument(s).")
        return cts
    wrapped.defvjp(fwd, bwd)
    return wrapped


class _Rule:
    """The vjp function a custom_gradient function returned, kept as a static residual."""

    __slots__ = ("vjp", "n")

    def __init__(self, vjp, n):
        self.vjp = vjp
        self.n = n


def _pair(res):
    if not (isinstance(res, (tuple, list)) and len(res) == 2 and callable(res[1])):
        raise TypeError("a custom_gradient function must return a pair (value, vjp) with vjp "
                        "a function of the output cotangent.")
    return res


# -- checkpoint with JAX's arguments ------------------------------------------------------------


def checkpoint(fun, *, prevent_cse=True, policy=None, static_argnums=(), static_argnames=(),
               **kwargs):
    from . import checkpointing
    if "concrete" in kwargs:
        raise TypeError("checkpoint: concrete= was removed from JAX; functrans's checkpoint "
                        "stages the function (Python control flow on values: use "
                        "functrans.lax.cond/while_loop, or static_argnums for flags).")
    if kwargs:
        raise TypeError(f"checkpoint got unexpected keyword arguments {sorted(kwargs)}.")
    if policy is not None and not callable(policy):
        raise TypeError(f"checkpoint: policy must be None or a function (see "
                        f"functrans.checkpoint_policies); got {policy!r}.")
    del prevent_cse
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    if not all(type(i) is int for i in nums):
        raise TypeError(f"checkpoint: static_argnums must be an int or a tuple of ints; got "
                        f"{static_argnums!r}.")
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"checkpoint: static_argnames must be a str or a tuple of strs; got "
                        f"{static_argnames!r}.")
    inner = checkpointing.checkpoint(fun, policy)
    if not nums and not names:
        return inner

    @functools.wraps(fun)
    def with_static(*args, **kw):
        for i in nums:
            if not -len(args) <= i < len(args):
                raise ValueError(
                    f"checkpoint: static_argnums {i} is out of range for a call with "
                    f"{len(args)} positional arguments (from {-len(args)} to "
                    f"{len(args) - 1}); pass the argument positionally, or fix the index.")
            _check_static(args[i], f"static_argnums {i}")
        for n in names:
            if n in kw:
                _check_static(kw[n], f"static_argnames {n!r}")
        return inner(*args, **kw)
    return with_static


def _check_static(x, what):
    # (JAX's checkpoint takes any value here, hashable or not, a plain array included: it
    # is passed through as a constant; only a value being transformed cannot be static.)
    if isinstance(x, Tracer):
        raise TypeError(f"checkpoint: the argument named by {what} is a value being "
                        f"transformed (a tracer), which cannot be static: drop it from "
                        f"static_argnums/static_argnames, or pass a plain value.")


def _checkpoint_doc():
    from . import checkpointing
    return (checkpointing.checkpoint.__doc__.rstrip() + """

    JAX's keyword arguments are accepted: ``policy`` (a function from
    ``functrans.checkpoint_policies`` or one of your own, ``policy(prim, *avals, **params)
    -> bool``) chooses the results kept from the forward pass besides the inputs (by
    default none, JAX's ``nothing_saveable``; ``everything_saveable`` is no checkpoint at
    all); results and derivatives are identical under every policy, only the balance of
    memory and compute changes. A policy returning anything but a bool is a TypeError when
    the block is differentiated.
    ``static_argnums``/``static_argnames`` name arguments passed as they are, never
    differentiated (any value, as JAX's; not a value being transformed); ``prevent_cse`` has no
    effect (functrans never merges the recomputation with the forward pass).
    """)


checkpoint.__doc__ = _checkpoint_doc()
remat = checkpoint


# -- fwd_and_bwd ---------------------------------------------------------------------------


class _Residuals:
    """What ``fwd_and_bwd``'s ``fwd`` returns for ``bwd``: a pytree whose leaves are the
    residual arrays and whose static part is the backward pass they feed (one per staged
    forward pass, so a jitted ``bwd`` stages once per ``fwd`` signature)."""

    __slots__ = ("backward", "arrays", "out_avals", "out_tree", "place")

    def __init__(self, backward, arrays, out_avals, out_tree, place=None):
        self.backward = backward
        self.arrays = arrays
        # (the output's leaves' shapes and dtypes, and its tree: what a cotangent must have)
        self.out_avals, self.out_tree = out_avals, out_tree
        # (the library and device of the differentiated arguments: of the arrays bwd makes
        # where no residual array says it, a cotangent given as a Python number, zeros)
        self.place = place

    def __repr__(self):
        return f"Residuals({len(self.arrays)} arrays)"


def _register_residuals():
    from .tree import register_pytree_node
    register_pytree_node(
        _Residuals, lambda r: (tuple(r.arrays), (r.backward, r.out_avals, r.out_tree,
                                                 r.place)),
        lambda aux, arrays: _Residuals(aux[0], list(arrays), aux[1], aux[2], aux[3]))


_register_residuals()


def fwd_and_bwd(fun, argnums=0, has_aux=False, jitted=True):
    """The forward and backward passes of ``fun`` as two functions (``jax.fwd_and_bwd``):
    ``fwd(*args)`` returns ``(fun(*args), residuals)`` (``(output, residuals, aux)`` with
    ``has_aux=True``) and ``bwd(residuals, cotangent)`` the cotangents of the arguments named
    by ``argnums`` (one value for an int, a tuple for a tuple), as ``vjp``'s function would.

    ``residuals`` is a pytree whose leaves are the arrays the backward pass reads and whose
    structure names that backward pass. With ``jitted=True`` (the default) both functions
    are jitted: ``fwd`` stages once per signature of its arguments, and ``bwd`` once per
    staged ``fwd`` (later calls replay the graphs, running no Python of ``fun``), which is
    the point of the split (a ``jit`` of ``vjp``'s function would stage again at each step).

    Example:
        >>> fwd, bwd = ft.fwd_and_bwd(lambda x, w: fnp.sum(fnp.tanh(x * w)), argnums=1)
        >>> y, res = fwd(np.ones(3), np.full(3, 0.5))
        >>> bwd(res, 1.0)
        array([0.78644773, 0.78644773, 0.78644773])
    """
    from .api import _argnums_tuple, vjp
    from .custom import _closure_convert
    from .errors import check_function
    check_function(fun, "fwd_and_bwd")
    _argnums_tuple(argnums, max(_max_argnum(argnums) + 1, 1), "fwd_and_bwd")  # (its type)

    def fwd(*args):
        single, nums = _argnums_tuple(argnums, len(args), "fwd_and_bwd")

        def of_differentiated(*diff):
            full = list(args)
            for i, d in zip(nums, diff):
                full[i] = d
            return fun(*full)
        out = vjp(of_differentiated, *[args[i] for i in nums], has_aux=has_aux)
        y, vjp_fun = out[0], out[1]
        # The backward pass as a function of the cotangent and the values it reads: under
        # jit (any transform) those are the staged forward's values, returned as the
        # residual arrays; evaluated eagerly, vjp_fun holds its arrays itself.
        from .api import _concrete_backend
        from .tree import tree_flatten
        diff_leaves = tree_flatten([args[i] for i in nums])[0]
        like = next((a for a in diff_leaves if type(a) not in _SCALAR_DTYPES), None)
        place = None if like is None else _concrete_backend(like)
        if any(isinstance(a, Tracer) for a in tree_flatten(args)[0]):
            staged = _zeros_in_bwd(vjp_fun, diff_leaves)
            # (its graph replayed even where it reads no residual: vjp_fun holds the staged
            # forward's tracers, gone by the time bwd runs)
            backward, arrays = _closure_convert(staged, (y,), True)
        else:
            backward, arrays = _eager_backward(vjp_fun), []
        y_leaves, y_tree = tree_flatten(y)
        out_avals = tuple(ShapedArray(tuple(get_aval(o).shape), get_aval(o).dtype)
                          for o in y_leaves)
        res = _Residuals(backward, list(arrays), out_avals, y_tree, place)
        return (y, res, out[2]) if has_aux else (y, res)

    def bwd(residuals, cotangent):
        if type(residuals) is not _Residuals:
            raise TypeError(f"fwd_and_bwd's bwd takes the residuals fwd returned, then the "
                            f"cotangent; got {type(residuals).__name__} as residuals.")
        _check_cotangent(residuals, cotangent)
        _check_cotangent_place(residuals, cotangent)
        cotangent = _numbers_as_arrays(residuals, cotangent)
        cts = _build_zeros(residuals.backward(cotangent, *residuals.arrays), residuals.arrays,
                           cotangent, residuals.place)
        return cts[0] if type(argnums) is int or not hasattr(argnums, "__len__") else cts

    fwd.__name__ = f"fwd_of_{getattr(fun, '__name__', 'fun')}"
    bwd.__name__ = f"bwd_of_{getattr(fun, '__name__', 'fun')}"
    if jitted:
        from .compiling import jit
        jitted_bwd = jit(bwd)

        @functools.wraps(jitted_bwd)
        def bwd_numbers_as_arrays(residuals, cotangent):
            # A Python number is part of a jitted function's signature (its value stages
            # again): a cotangent given as one becomes an array like the residuals'.
            if type(residuals) is _Residuals:
                _check_cotangent_place(residuals, cotangent)
                cotangent = _numbers_as_arrays(residuals, cotangent)
            return jitted_bwd(residuals, cotangent)
        return jit(fwd), bwd_numbers_as_arrays
    return fwd, bwd


def _check_cotangent(residuals, cotangent):
    """The cotangent ``bwd`` was given against the output ``fwd`` computed, with vjp's
    messages: the backward pass it feeds was staged for that output's shapes and dtypes, and
    would run on others unchecked (broadcasting a wrong shape into a wrong result)."""
    from .api import TangentMismatchError, _check_like, _differ, _integer_tangent, _Leaves
    from .tree import tree_flatten
    leaves, tree = tree_flatten(cotangent)
    if tree != residuals.out_tree:
        raise TangentMismatchError(
            f"fwd_and_bwd's bwd: the cotangent must have the tree structure of the output, "
            f"{residuals.out_tree}; got {tree}"
            f"{_differ(residuals.out_tree, tree, ('output', 'cotangent'))}.")
    name = _Leaves("fwd_and_bwd's bwd", "cotangent", cotangent, "cotangent")
    for i, (c, aval) in enumerate(zip(leaves, residuals.out_avals)):
        if type(c) in _SCALAR_DTYPES:
            continue  # (made an array like the output's by the backward pass, as vjp's)
        if aval.dtype.kind not in "fc":
            _integer_tangent(c, aval, name, i, c)
        else:
            _check_like(c, aval, name, i, c)


class _Zero:
    """A cotangent that does not depend on the output's cotangent (of an argument the output
    does not depend on): zero, since the backward pass is linear. The staged backward pass
    returns it instead of a zero array made by the forward pass, which ``fwd`` would return
    as one more residual; ``bwd`` builds the zeros (JAX's symbolic zeros)."""

    __slots__ = ("spec",)  # (shape, dtype): no array attributes, so staging passes it through

    def __init__(self, shape, dtype):
        self.spec = (shape, dtype)


def _zeros_in_bwd(vjp_fun, primals):
    """``vjp_fun`` returning a :class:`_Zero` for each cotangent it computes without reading
    the output's cotangent, while ``closure_convert`` stages it: a tracer of the transform
    around ``fwd`` there (not the staging's own) was made from the forward pass alone (the
    zeros of an unread argument). A primal returned as it is (a structural leaf) stays."""
    from .checkpointing import _Staging
    from .core import _current
    from .interpreters import ConstTracer, StagingTracer
    from .tree import tree_flatten

    def backward(cotangent):
        cts = vjp_fun(cotangent)
        interp = _current.get().interp
        if type(interp) is not _Staging or interp.transform != "closure_convert":
            return cts
        leaves, tree = tree_flatten(cts)
        for i, c in enumerate(leaves):
            if isinstance(c, Tracer) and type(c) is not ConstTracer and not (
                    type(c) is StagingTracer and c._interp is interp) and not any(
                    c is p for p in primals):
                aval = get_aval(c)
                leaves[i] = _Zero(tuple(aval.shape), aval.dtype)
        return tree.unflatten(leaves)
    return backward


def _check_cotangent_place(residuals, cotangent):
    """A cotangent array of another library or device than the differentiated arguments is
    refused, as vjp's function refuses it (a NumPy scalar for a torch output gave NumPy
    gradients where the backward pass read no residual, BackendMismatchError from inside it
    where it did)."""
    if residuals.place is None:
        return
    from .api import _check_place
    from .backends import _by_type
    from .tree import tree_flatten
    b, dev = residuals.place
    for i, c in enumerate(tree_flatten(cotangent)[0]):
        bc = _by_type.get(type(c))
        if bc is not None and (bc is not b or (dev is not None and bc.device(c) != dev)):
            like = b.xp.zeros((), **({"device": dev} if dev is not None else {}))
            _check_place(c, like, lambda i: f"fwd_and_bwd's bwd: cotangent {i}", i)


def _numbers_as_arrays(residuals, cotangent):
    """``cotangent`` with its Python numbers as 0-d arrays of the output's dtypes, in the
    library and on the device of the residual arrays, else of the differentiated arguments
    (a backward pass reading no residual gave NumPy arrays for torch's)."""
    from .tree import tree_flatten, tree_unflatten
    leaves, tree = tree_flatten(cotangent)
    if len(leaves) != len(residuals.out_avals) or not any(
            type(c) in _SCALAR_DTYPES for c in leaves):
        return cotangent
    if residuals.arrays:
        from .api import _concrete_backend
        b, dev = _concrete_backend(residuals.arrays[0])
    elif residuals.place is not None:
        b, dev = residuals.place
    else:
        return cotangent
    kw = {"device": dev} if dev is not None else {}
    return tree_unflatten(tree, [
        b.xp.asarray(c, dtype=b.native_dtype(a.dtype), **kw)
        if type(c) in _SCALAR_DTYPES and a.dtype.kind in "fc" else c
        for c, a in zip(leaves, residuals.out_avals)])


def _build_zeros(cts, arrays, cotangent, place):
    """``cts`` with zero arrays in place of :func:`_zeros_in_bwd`'s :class:`_Zero` leaves,
    on the backend of the residual arrays (else of the cotangent, else of the differentiated
    arguments: ``place``)."""
    from .tree import tree_flatten
    leaves, tree = tree_flatten(cts)
    if not any(type(c) is _Zero for c in leaves):
        return cts
    from . import numpy as fnp
    like = next((a for a in (*arrays, *tree_flatten(cotangent)[0])
                 if type(a) not in _SCALAR_DTYPES and hasattr(a, "shape")), None)
    for i, c in enumerate(leaves):
        if type(c) is _Zero:
            shape, dtype = c.spec
            if like is not None:
                leaves[i] = fnp.zeros_like(like, dtype=dtype, shape=shape)
            elif place is not None:
                b, dev = place
                leaves[i] = b.xp.zeros(shape, dtype=b.native_dtype(dtype),
                                       **({"device": dev} if dev is not None else {}))
            else:
                leaves[i] = fnp.zeros(shape, dtype)
    return tree.unflatten(leaves)


def _eager_backward(vjp_fun):
    def backward(cotangent):
        return vjp_fun(cotangent)
    return backward


def _max_argnum(argnums):
    try:
        return max(abs(int(i)) for i in (argnums if hasattr(argnums, "__iter__")
                                         else (argnums,)))
    except (TypeError, ValueError):
        return 0
