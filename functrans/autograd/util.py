"""autograd's ``autograd.util``: the small helpers its examples import (``func``,
``subval``, ``subvals``)."""

__all__ = ["func", "subval", "subvals"]


def func(f):
    """``f`` itself (autograd's examples write ``defvjp(func(Class.method), ...)``)."""
    return f


def subval(x, i, v):
    """The tuple ``x`` with item ``i`` replaced by ``v``."""
    out = list(x)
    out[i] = v
    return tuple(out)


def subvals(x, ivs):
    """The tuple ``x`` with item ``i`` replaced by ``v`` for each pair ``(i, v)`` of ``ivs``."""
    out = list(x)
    for i, v in ivs:
        out[i] = v
    return tuple(out)
