"""autograd's ``autograd.misc.tracers``: :func:`const_graph`, a function traced once and
replayed, here :func:`functrans.jit`."""

import functools

from ...compiling import jit

__all__ = ["const_graph"]


def const_graph(fun, *args, **kwargs):
    """``fun`` with ``args`` and ``kwargs`` fixed in front, traced on its first call and
    replayed from the recorded graph afterwards: :func:`functrans.jit` of that partial
    function (the remaining arguments are arrays, passed positionally).

    Differences from autograd: functrans stages the function abstractly, once per shape
    and dtype of its arguments, so Python control flow on the arguments' values is an
    error (autograd's graph silently keeps the branch the first call took); the result
    can be differentiated and transformed again (autograd's is for evaluation only)."""
    fixed = functools.partial(fun, *args, **kwargs)
    staged = jit(fixed)

    @functools.wraps(fun)
    def replay(*more):
        return staged(*more)
    return replay


def full_graph(fun, *args, **kwargs):
    """autograd's graph of ``FullGraphNode`` s; not available: functrans records no graph of
    Python calls. Raises a ``NotImplementedError``; :func:`functrans.make_graph` gives the
    evaluation trace of a function."""
    raise NotImplementedError(
        "functrans.autograd.misc.tracers.full_graph: functrans records no graph of Python "
        "calls; print(functrans.make_graph(f)(*args)) shows the evaluation trace of f.")
