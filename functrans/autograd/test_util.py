"""autograd's ``autograd.test_util``: :func:`check_grads` and :func:`combo_check`, checking
derivatives numerically with :func:`functrans.testing.check_grads`."""

from __future__ import annotations

import itertools

from ..testing import check_grads as _check_grads

__all__ = ["check_grads", "combo_check"]


def _is_argnum(x):
    if type(x) is int:
        return True
    return isinstance(x, (tuple, list)) and len(x) > 0 and all(type(i) is int for i in x)


def check_grads(fun, *args, **kwargs):
    """``check_grads(fun, argnum=0, modes=("fwd", "rev"), order=2)(*args, **kwargs)``:
    check the derivatives of ``fun`` with respect to argument ``argnum`` (an int, or a
    tuple/list of them) at ``args`` numerically, up to ``order``, in the ``modes`` given;
    returns None or raises an ``AssertionError``
    (:class:`functrans.testing.GradCheckError`). Keyword arguments of the returned function
    go to ``fun`` and are not differentiated.

    Also autograd's older form ``check_grads(fun, *args)``, which checks the first
    derivatives with respect to every argument at once, in reverse mode (recognised by its
    second argument not being an argument number: an ``int`` or a tuple/list of ints).

    Differences from autograd: the check is :func:`functrans.testing.check_grads`: JVPs
    against central finite differences with tolerances per dtype (1e-6 for float64) that
    allow for the finite difference's own error, and VJPs by the dot-product identity; its
    random directions come from a fixed seed (autograd's from NumPy's global state, which
    this does not touch). A failure says which derivative and where.
    """
    if args and not _is_argnum(args[0]):
        if kwargs:
            raise TypeError(f"check_grads(fun, *args): the older form takes no keyword "
                            f"arguments; got {sorted(kwargs)}. Write "
                            f"check_grads(fun, argnum, modes=..., order=...)(*args).")
        _check_grads(fun, tuple(args), order=1, modes=("rev",))
        return None
    return _nary_check(fun, *args, **kwargs)


def _nary_check(fun, argnum=0, modes=("fwd", "rev"), order=2):
    if isinstance(modes, str):
        modes = (modes,)
    bad = [m for m in modes if m not in ("fwd", "rev")]
    if bad:
        raise ValueError(f"check_grads: modes may hold 'fwd' and 'rev'; got {list(modes)!r}.")

    def check(*args, **kwargs):
        nums = (argnum,) if type(argnum) is int else tuple(argnum)
        for i in nums:
            if not -len(args) <= i < len(args):
                raise ValueError(f"check_grads: argnum {argnum} for a call with {len(args)} "
                                 f"positional argument(s).")
        nums = tuple(i % len(args) for i in nums)

        def partial_fun(*xs):
            full = list(args)
            for i, x in zip(nums, xs):
                full[i] = x
            return fun(*full, **kwargs)
        partial_fun.__name__ = getattr(fun, "__name__", "fun")
        _check_grads(partial_fun, tuple(args[i] for i in nums), order=order, modes=modes)
    check.__name__ = f"check_grads_of_{getattr(fun, '__name__', 'fun')}_wrt_argnum_{argnum}"
    return check


def combo_check(fun, *args, **kwargs):
    """``combo_check(fun, argnum=0, modes=..., order=...)(*arg_lists, **kwarg_lists)``:
    :func:`check_grads` of ``fun`` at every combination of the values given, one list of
    candidate values per positional argument and per keyword argument (as autograd's)."""
    def check_all(*arg_lists, **kwarg_lists):
        names = list(kwarg_lists)
        for values in itertools.product(*arg_lists):
            for kw_values in itertools.product(*(kwarg_lists[n] for n in names)):
                _nary_check(fun, *args, **kwargs)(*values, **dict(zip(names, kw_values)))
    return check_all
