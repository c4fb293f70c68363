"""The promotion modes of ``functrans.numpy`` (JAX's ``jax_numpy_rank_promotion`` and
``jax_numpy_dtype_promotion``) and their checks.

The modes are process-wide (``functrans.config.update``) or set for a block by the context
managers ``functrans.numpy_rank_promotion``/``numpy_dtype_promotion`` (per thread and async
task, as JAX's). While every mode is at its default, ``functrans.numpy._base._PROMOTION_CHECKS``
is False and the namespace's promoting and broadcasting paths read that one global only.

The checks apply to calls made by user code: an operation functrans itself runs (a derivative
rule, a ``functrans.lax`` function's implementation) promotes as it needs, as JAX's, written
with ``lax``, do.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import threading
import warnings

from ..errors import TypePromotionError

RANK_MODES = ("allow", "warn", "raise")
DTYPE_MODES = ("standard", "strict")
_process = {"rank": "allow", "dtype": "standard"}
_block = contextvars.ContextVar("functrans_numpy_promotion", default=None)
_open_blocks = [0]  # context managers entered and not left, in any thread
_lock = threading.Lock()


def _update_flag():
    from . import _base
    _base._PROMOTION_CHECKS = (_open_blocks[0] > 0 or _process["rank"] != "allow"
                               or _process["dtype"] != "standard")


def _checked(kind, value):
    modes = RANK_MODES if kind == "rank" else DTYPE_MODES
    name = "jax_numpy_rank_promotion" if kind == "rank" else "jax_numpy_dtype_promotion"
    if value not in modes:
        raise ValueError(f"{name} must be one of {list(modes)}; got {value!r}.")
    return value


def set_process_mode(kind, value):
    """Set the process-wide mode (``functrans.config.update``)."""
    with _lock:
        _process[kind] = _checked(kind, value)
        _update_flag()


def mode(kind):
    """The mode in force here: the innermost block's, else the process-wide one."""
    block = _block.get()
    if block is not None and kind in block:
        return block[kind]
    return _process[kind]


@contextlib.contextmanager
def block_mode(kind, value):
    token = _block.set(dict(_block.get() or {}, **{kind: _checked(kind, value)}))
    with _lock:
        _open_blocks[0] += 1
        _update_flag()
    try:
        yield
    finally:
        _block.reset(token)
        with _lock:
            _open_blocks[0] -= 1
            _update_flag()


def _from_user_code():
    """Whether the functrans.numpy function promoting its operands was called by user code:
    going up from the checks, the first frame that is not functrans.numpy's (nor a tracer's
    operator, in functrans.core) is not functrans's own."""
    f = sys._getframe(2)
    while f is not None:
        name = f.f_globals.get("__name__", "")
        if not name.startswith("functrans."):
            return True
        if not (name.startswith("functrans.numpy") or name == "functrans.core"):
            return False
        f = f.f_back
    return True


# primitive names -> the namespace functions that bind them (for messages)
_FUNCTION_OF = {"sub": "subtract", "mul": "multiply", "div": "divide", "max": "maximum",
                "min": "minimum", "floordiv": "floor_divide", "rem": "remainder"}


def check_rank(name, sx, sy, stacklevel=4):
    """Under 'warn' or 'raise': operands of shapes ``sx`` and ``sy`` (neither 0-d) of
    different ranks being broadcast by ``name`` (a primitive's)."""
    m = mode("rank")
    if m == "allow" or not _from_user_code():
        return
    name = _FUNCTION_OF.get(name, name)
    shapes = f"{tuple(sx)} and {tuple(sy)}"
    if m == "warn":
        warnings.warn(f"functrans.numpy.{name}: broadcasting operands of shapes {shapes} "
                      f"promotes the rank of one (jax_numpy_rank_promotion='warn'). Add the "
                      f"axes explicitly (expand_dims, reshape, x[None]) or set the option "
                      f"to 'allow'.", stacklevel=stacklevel)
        return
    raise ValueError(f"functrans.numpy.{name}: operands of shapes {shapes} have different "
                     f"ranks, and jax_numpy_rank_promotion='raise' refuses to promote one. "
                     f"Add the axes explicitly (expand_dims, reshape, x[None]) or set the "
                     f"option to 'allow' (functrans.numpy_rank_promotion('allow')).")


def check_ranks(name, *operands):
    """:func:`check_rank` for a function that broadcasts its operands together before its
    binary operations see them (``fmax`` masks NaNs with ``where`` first): called by the
    function itself, named ``name``, with its operands (Python numbers are 0-d)."""
    shapes = [tuple(getattr(x, "shape", ())) for x in operands]
    ranked = [s for s in shapes if s]
    for s in ranked[1:]:
        if len(s) != len(ranked[0]):
            check_rank(name, ranked[0], s, stacklevel=5)
            return


def _allowed_with_scalar(d, scalar):
    """JAX's strict lattice: a Python number is weakly typed and meets an array of its own
    kind or a wider one (an int meets any number dtype, a float floating and complex, a
    complex complex); a bool only booleans."""
    t = type(scalar)
    if t is bool:
        return d.kind == "b"
    if t is int:
        return d.kind in "iufc"
    if t is float:
        return d.kind in "fc"
    return d.kind == "c"


def check_dtypes(name, operands):
    """Under 'strict': refuse operands (arrays, Python numbers) of different dtypes."""
    if mode("dtype") == "standard" or not _from_user_code():
        return
    name = _FUNCTION_OF.get(name, name)
    from ._base import _SCALARS, _dtype
    arrays = [_dtype(a) for a in operands if type(a) not in _SCALARS]
    numbers = [a for a in operands if type(a) in _SCALARS]
    distinct = list(dict.fromkeys(arrays))
    bad = len(distinct) > 1 or any(not _allowed_with_scalar(distinct[0], s)
                                   for s in numbers if distinct)
    if not bad:
        return
    given = [d.name for d in arrays] + [f"Python {type(s).__name__}" for s in numbers]
    raise TypePromotionError(
        f"functrans.numpy.{name}: operands of dtypes {', '.join(given)} would be promoted to "
        f"a common dtype implicitly, which jax_numpy_dtype_promotion='strict' refuses. Cast "
        f"them explicitly (x.astype(...)), or set the option to 'standard' "
        f"(functrans.numpy_dtype_promotion('standard')).")
