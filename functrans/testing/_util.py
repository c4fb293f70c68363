"""Shared machinery of :mod:`functrans.testing`: leaves with their paths, random directions
made in the input's own library and device, tolerances per dtype, and comparisons.

Everything here works on concrete arrays of any backend. The functions under check run on
their backend's arrays, on their device; comparisons of their results are made on NumPy
copies (:func:`host`, an explicit copy through the backend's ``to_numpy``).
"""

from __future__ import annotations

import numpy as np
import optree

from .. import dtypes as _dt
from ..backends import backend_of, default as _default_backend
from ..core import _SCALAR_DTYPES, Tracer, get_aval
from ..tree import NAMESPACE, tree_flatten, tree_unflatten

# -- tolerances ----------------------------------------------------------------------------------

# Finite-difference step and tolerances per floating dtype. Central differences have a
# truncation error ~eps**2 * f''' and a rounding error ~ulp * |f| / eps; the steps balance the
# two, and the tolerances leave an order of magnitude of headroom over both.
FD_DEFAULTS = {
    "float64": {"eps": 1e-6, "atol": 1e-6, "rtol": 1e-6},
    "float32": {"eps": 1e-3, "atol": 1e-2, "rtol": 1e-2},
    # half precision: a coarse check (11 and 8 significant bits leave little to compare)
    "float16": {"eps": 1e-1, "atol": 5e-2, "rtol": 5e-2},
    "bfloat16": {"eps": 2.5e-1, "atol": 2e-1, "rtol": 2e-1},
}
# Tolerances for comparing two derivatives computed by AD (no finite differences): only the
# rounding of different evaluation orders separates them.
AD_DEFAULTS = {
    "float64": {"atol": 1e-8, "rtol": 1e-8},
    "float32": {"atol": 1e-4, "rtol": 1e-4},
    "float16": {"atol": 1e-2, "rtol": 1e-2},
    "bfloat16": {"atol": 5e-2, "rtol": 5e-2},
}
_ULP = {"float64": 2.0 ** -52, "float32": 2.0 ** -23, "float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}


def _real_name(d: _dt.DType) -> str:
    """The tolerance class of a dtype: float64, float32 (complex64 too), float16, bfloat16."""
    if d.kind not in "fc":
        return "float64"
    r = _dt.real_dtype(d)
    return r.name if r.name in _ULP else "float32"


def least_precise(*dtypes) -> str:
    names = [_real_name(d) for d in dtypes if d is not None]
    return max(names, key=_ULP.__getitem__, default="float64")


def fd_tolerances(dtype_name, eps=None, atol=None, rtol=None):
    d = FD_DEFAULTS[dtype_name]
    return (d["eps"] if eps is None else eps, d["atol"] if atol is None else atol,
            d["rtol"] if rtol is None else rtol)


def ad_tolerances(dtype_name, atol=None, rtol=None):
    d = AD_DEFAULTS[dtype_name]
    return d["atol"] if atol is None else atol, d["rtol"] if rtol is None else rtol


def ulp(dtype_name) -> float:
    return _ULP[dtype_name]

# -- leaves and paths ----------------------------------------------------------------------------


def as_concrete(x):
    """A leaf as an array: Python scalars become 0-d arrays of the default backend (floats as
    float64), NumPy scalars 0-d NumPy arrays; arrays are kept as they are (never copied)."""
    if type(x) in _SCALAR_DTYPES:
        return _default_backend().asarray(x, dtype=_dt.float64 if type(x) is float else None)
    if isinstance(x, Tracer):
        raise TypeError("functrans.testing checks run on concrete arrays; call them outside "
                        "of any transform.")
    return backend_of(x).as_array(x)


def flatten_with_paths(tree):
    """``(paths, leaves, treedef)`` with every leaf made concrete."""
    paths, leaves, treedef = optree.tree_flatten_with_path(tree, namespace=NAMESPACE)
    return list(paths), [as_concrete(x) for x in leaves], treedef


def dtype_of(x) -> _dt.DType:
    return get_aval(x).dtype


def is_real_float(x) -> bool:
    return dtype_of(x).kind == "f"


def check_supported(x, where):
    if dtype_of(x).kind == "c":
        raise NotImplementedError(
            f"functrans.testing: {where} has complex dtype {dtype_of(x).name}; the checks "
            f"cover real floating-point values (complex derivatives are not checked yet).")


def format_path(path) -> str:
    return "".join(f"[{k!r}]" for k in path)


def describe_shape(x) -> str:
    return f"shape {tuple(get_aval(x).shape)}, {dtype_of(x).name}"

# -- random values in the input's own library ----------------------------------------------------


def like(x, data, dtype=None):
    """NumPy data as an array of ``x``'s backend, on ``x``'s device, with ``x``'s dtype."""
    b = backend_of(x)
    dtype = dtype_of(x) if dtype is None else dtype
    kw = {}
    if b.name != "numpy":
        dev = b.device(x)
        if dev is not None:
            kw["device"] = dev
    try:
        return b.asarray(np.asarray(data), dtype=dtype, **kw)
    except TypeError:  # a library whose asarray takes no device argument
        return b.asarray(np.asarray(data), dtype=dtype)


def random_host(rng: np.random.Generator, x) -> np.ndarray:
    """A standard normal NumPy array of ``x``'s shape, drawn in ``x``'s precision (float32
    values for float32; complex: real and imaginary parts standard normal)."""
    shape = tuple(get_aval(x).shape)
    # (bfloat16: float32 values, which the backend rounds; NumPy has no bfloat16)
    npd = {"float32": np.float32, "float16": np.float16, "bfloat16": np.float32}.get(
        _real_name(dtype_of(x)), np.float64)
    if dtype_of(x).kind == "c":
        re, im = rng.standard_normal(shape), rng.standard_normal(shape)
        return (re + 1j * im).astype(np.complex64 if npd is np.float32 else np.complex128)
    return np.asarray(rng.standard_normal(shape), dtype=npd)


def random_like(rng: np.random.Generator, x):
    """:func:`random_host`'s values made by ``x``'s backend on ``x``'s device, with
    ``x``'s dtype."""
    return like(x, random_host(rng, x))


def zeros_like(x):
    b = backend_of(x)
    return b.xp.zeros_like(x)

# -- comparisons, on host copies ------------------------------------------------------------------
# The function under check runs on its backend (and device); the harness compares what it
# returned on NumPy copies: a few small arrays per comparison, where computing on the backend
# cost a dispatch through the library's wrappers for every elementwise step and reduction.


def host(x) -> np.ndarray:
    """A NumPy copy (or view) of a concrete array of any backend, on the host."""
    if type(x) is np.ndarray:
        return x
    if type(x) in _SCALAR_DTYPES or isinstance(x, np.generic):
        return np.asarray(x)
    return np.asarray(backend_of(x).to_numpy(x))


def xp_of(x):
    return backend_of(x).xp


def size(x) -> int:
    return get_aval(x).size


def vdot(a, b) -> float:
    """``Re(sum(a * b))`` as a Python float (computed on host copies)."""
    return float(np.real((host(a) * host(b)).sum()))


def abs_dot(a, b) -> float:
    """``sum(|a * b|)``: the magnitude against which a dot product's rounding is judged."""
    return float(np.abs(host(a) * host(b)).sum())


def dot_and_scale(a, b):
    """``(sum(a * b), sum(|a * b|))`` as Python floats, from one product (host copies)."""
    p = host(a) * host(b)
    return float(p.sum()), float(np.abs(p).sum())


def abs_sum(x) -> float:
    return float(np.abs(host(x)).sum())


def max_abs(x) -> float:
    h = host(x)
    return float(np.abs(h).max()) if h.size else 0.0


def errors(a, b):
    """``(max abs error, max rel error)`` between two arrays of one shape."""
    a, b = host(a), host(b)
    if a.size == 0:
        return 0.0, 0.0
    if a.dtype != b.dtype:
        b = b.astype(a.dtype)
    diff = np.abs(a - b)  # real, also for complex a and b
    tiny = 1e-300 if diff.dtype == np.float64 else 1e-30
    denom = np.maximum(np.maximum(np.abs(a), np.abs(b)), np.asarray(tiny, dtype=diff.dtype))
    return float(diff.max()), float((diff / denom).max())


def excess(a, b, atol, rtol, noise=0.0, slack=None) -> float:
    """The largest ``|a - b| - (atol + rtol * max(|a|, |b|) + noise + slack)`` over the
    elements (NaN if any difference is NaN): the elementwise test passes when it is <= 0.
    ``slack`` is an array of ``a``'s shape or None."""
    a, b = host(a), host(b)
    if a.size == 0:
        return -1.0
    if a.dtype != b.dtype:
        b = b.astype(a.dtype)
    diff = np.abs(a - b)
    bound = atol + rtol * np.maximum(np.abs(a), np.abs(b)) + noise
    if slack is not None:
        bound = bound + host(slack)
    over = diff - bound
    if np.isnan(over).any():
        return float("nan")
    return float(over.max())


def excess_and_sizes(a, b, atol, rtol, noise=0.0):
    """``(max_abs(a), max_abs(b), excess(a, b, atol, rtol, noise))`` with the absolute values
    computed once (the forward check's three quantities)."""
    a, b = host(a), host(b)
    if a.size == 0:
        return 0.0, 0.0, -1.0
    aa, ab = np.abs(a), np.abs(b)
    ma, mb = float(aa.max()), float(ab.max())
    if a.dtype != b.dtype:
        b = b.astype(a.dtype)
        ab = np.abs(b)
    over = np.abs(a - b) - (atol + rtol * np.maximum(aa, ab) + noise)
    return ma, mb, float(over.max())  # NaN if any difference is NaN (max propagates it)


def within(err, atol, rtol, scale, noise=0.0) -> bool:
    """The test shared by every check: ``err <= atol + rtol * scale + noise`` (false for
    NaN)."""
    return err <= atol + rtol * scale + noise


def to_host(x) -> np.ndarray | str:
    """A NumPy copy of an array of any backend, for messages (or its repr if impossible)."""
    for conv in (np.asarray, np.from_dlpack, lambda a: a.get(), lambda a: a.cpu().numpy()):
        try:
            out = np.asarray(conv(x))
            if out.dtype != object:
                return out
        except Exception:
            continue
    return repr(x)


def show(x) -> str:
    """A compact rendering of an array's values for an assertion message."""
    h = to_host(x)
    if isinstance(h, str):
        return h
    s = np.array2string(h, precision=8, threshold=24, edgeitems=3, max_line_width=90)
    return s.replace("\n", "\n      ")


def call(f, treedef, leaves):
    return f(*tree_unflatten(treedef, leaves))


def out_leaves(out):
    paths, leaves, treedef = flatten_with_paths(out)
    return paths, leaves, treedef


def unflatten(treedef, leaves):
    return tree_unflatten(treedef, leaves)


def flatten(tree):
    return tree_flatten(tree)


def fun_name(f) -> str:
    return getattr(f, "__name__", None) or type(f).__name__
