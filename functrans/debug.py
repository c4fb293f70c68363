"""``functrans.debug``: printing and callbacks that run when the values exist
(``jax.debug``).

``print``, ``log`` (the same message, to Python's ``logging``) and ``callback`` work under
every transform and change no result or derivative:

- eagerly and under ``grad``/``jvp``/``vjp``: at once, with the primal values (tangents are
  not shown), once per evaluation of the primal;
- under ``jit``: at every call of the jitted function, with that call's values (a plain
  Python ``print`` runs only while the function is staged);
- under ``vmap``: once per batch member, with that member's values, as JAX does;
- inside ``functrans.checkpoint`` under reverse mode: again when the block is recomputed
  in the backward pass.

Differences from JAX: ``callback`` receives the arrays of the arguments' own library (NumPy,
CuPy, torch...), not NumPy arrays; ``print`` formats them as NumPy arrays (through the host).
A call with no traced argument is recorded in a staged graph too (under ``jit`` it runs at
every call, as JAX's); under the eager transforms it runs when reached.
``ordered`` and ``partitioned`` are accepted: calls run in program order anyway.
"""

from __future__ import annotations

import builtins
import logging as _logging
import string
import sys as _sys

from .callbacks import debug_call

__all__ = ["print", "log", "callback", "breakpoint"]


def _host(x):
    """An array as a NumPy array for printing; other values as they are."""
    from .backends import _by_type
    b = _by_type.get(type(x))
    return b.to_numpy(x) if b is not None and b.name != "numpy" else x


def _check_format(fmt, args):
    """JAX's check that ``fmt`` uses every positional argument (a mistaken f-string, or a
    missing ``{}``, would otherwise print something else than meant)."""
    used, auto = set(), 0
    try:
        for _, field, _, _ in string.Formatter().parse(fmt):
            if field is None:
                continue
            head = field.split(".")[0].split("[")[0]
            if head == "":
                used.add(auto)
                auto += 1
            elif head.isdigit():
                used.add(int(head))
    except ValueError as e:
        raise ValueError(f"functrans.debug.print: invalid format string {fmt!r}: {e}") from None
    unused = [i for i in range(len(args)) if i not in used]
    if unused:
        raise ValueError(
            f"functrans.debug.print: unused positional arguments {unused} (positions) for the "
            f"format {fmt!r} (as JAX). Write functrans.debug.print('x = {{}}', x), not an "
            f"f-string, so that the value printed is the one at run time, or pass "
            f"skip_format_check=True.")


def print(fmt=None, *args, ordered=False, partitioned=False, skip_format_check=False,  # noqa: A001
          **kwargs):
    """Print ``fmt.format(*args, **kwargs)`` with the values the arguments have when the
    program runs (``jax.debug.print``): at each call of a jitted function, once per batch
    member under ``vmap``, with the primal values under ``grad``/``jvp``. Results and
    derivatives are unchanged. Arrays are formatted as NumPy arrays.

    Example:
        >>> f = ft.jit(lambda x: (ft.debug.print("x = {}", x), x * 2)[1])
        >>> _ = f(fnp.asarray([1.0, 2.0]))
        x = [1. 2.]
    """
    del ordered, partitioned
    _emit("print", fmt, args, kwargs, skip_format_check, builtins.print)


def log(fmt=None, *args, ordered=False, partitioned=False, skip_format_check=False,
        **kwargs):
    """As :func:`print`, but the message goes to Python's ``logging`` (``jax.debug.log``):
    a record of level INFO on the logger ``"functrans.debug"``, carrying the file and line
    of the call, emitted when the values exist (at each call of a jitted function, once per
    batch member under ``vmap``). Configure it as any logger
    (``logging.getLogger("functrans.debug").setLevel(...)``, handlers).

    Example:
        >>> ft.debug.log("loss = {}", fnp.asarray(0.25))  # an INFO record: "loss = 0.25"
    """
    del ordered, partitioned
    caller = _sys._getframe(1)
    where = (caller.f_code.co_filename, caller.f_lineno)

    def emit(msg):
        logger = _logging.getLogger("functrans.debug")
        if logger.isEnabledFor(_logging.INFO):
            logger.handle(logger.makeRecord(logger.name, _logging.INFO, where[0], where[1],
                                            msg, (), None))
    _emit("log", fmt, args, kwargs, skip_format_check, emit)


def _emit(name, fmt, args, kwargs, skip_format_check, sink):
    """The message of ``fmt`` with the run-time values of ``args``/``kwargs``, given to
    ``sink`` when they exist (see :func:`print`)."""
    if fmt is None:
        raise TypeError(f"functrans.debug.{name}: a format string is required "
                        f"(debug.{name}('{{}}', x)).")
    if not isinstance(fmt, str):
        raise TypeError(f"functrans.debug.{name}: the format must be a string; got "
                        f"{type(fmt).__name__}.")
    if not skip_format_check:
        _check_format(fmt, args)
    # (a format with no fields and arguments, allowed by skip_format_check: the values are
    # appended, as JAX does)
    joined = bool(args) and not kwargs and _no_fields(fmt)

    def show(*a, **kw):
        a = [_host(x) for x in a]
        if joined:
            sink(" ".join([fmt, *map(str, a)]))
        else:
            sink(fmt.format(*a, **{k: _host(v) for k, v in kw.items()}))
    show.__name__ = f"debug_{name}"
    debug_call(show, args, kwargs)


def _no_fields(fmt):
    try:
        return all(field is None for _, field, _, _ in string.Formatter().parse(fmt))
    except ValueError:
        return False


def callback(callback=None, *args, ordered=False, partitioned=False, **kwargs):
    """Call ``callback(*args, **kwargs)`` for its effect, with the values the arguments have
    when the program runs (``jax.debug.callback``): when and how often as for
    :func:`print`. Its return value is ignored. It receives the arrays of the arguments'
    own library (JAX gives NumPy arrays); leaves that are not arrays are passed as they
    are."""
    del ordered, partitioned
    if not callable(callback):
        raise TypeError(f"functrans.debug.callback expects a function; got "
                        f"{type(callback).__name__}.")
    debug_call(callback, args, kwargs)


def breakpoint(*, backend=None, filter_frames=True, num_frames=None, ordered=False,  # noqa: A001
               token=None, **kwargs):
    """Not supported (``jax.debug.breakpoint``): raises NotImplementedError. functrans's
    transforms are eager, so Python's own ``breakpoint()`` works inside ``grad``, ``jvp``
    and ``vmap`` (values under ``grad`` are concrete; ``x.primal`` of a JVP tracer); for a
    jitted function use ``with functrans.disable_jit():`` around the call, or
    ``functrans.debug.callback(lambda *a: breakpoint(), x)`` to stop at each call."""
    raise NotImplementedError(
        "functrans.debug.breakpoint is not supported. Transforms other than jit are eager: "
        "call Python's breakpoint() inside the function; for a jitted function wrap the call "
        "in `with functrans.disable_jit():`, or use functrans.debug.callback(lambda *a: "
        "breakpoint(), x) to stop with the values at each call.")
