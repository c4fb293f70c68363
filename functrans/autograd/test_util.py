"""autograd's ``autograd.test_util``: :func:`check_grads` and :func:`combo_check`, checking
derivatives numerically with :func:`functrans.testing.check_grads`."""

from __future__ import annotations

import itertools

import numpy as _onp

from .. import numpy as _fnp
from .. import tree as _tree
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
    this does not touch). A failure says which derivative and where. Complex arguments and
    outputs are checked as pairs of real ones (real and imaginary parts), which checks the
    derivative as a real-linear map, holomorphic or not.
    """
    if args and not _is_argnum(args[0]):
        if kwargs:
            raise TypeError(f"check_grads(fun, *args): the older form takes no keyword "
                            f"arguments; got {sorted(kwargs)}. Write "
                            f"check_grads(fun, argnum, modes=..., order=...)(*args).")
        _checked(fun, tuple(args), order=1, modes=("rev",))
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
        _checked(partial_fun, tuple(args[i] for i in nums), order=order, modes=modes)
    check.__name__ = f"check_grads_of_{getattr(fun, '__name__', 'fun')}_wrt_argnum_{argnum}"
    return check


def _checked(fun, args, **kwargs):
    """functrans.testing.check_grads, which checks real values only: a complex leaf of an
    argument becomes a pair (real part, imaginary part), a complex output leaf its two parts."""
    out = fun(*args)
    if not any(_onp.issubdtype(_fnp.result_type(o), _onp.inexact) for o in _tree.leaves(out)):
        return  # boolean/integer outputs (np.all, np.argmax): no derivative, as in autograd
    flat = [_tree.flatten(a) for a in args]
    flags = [[_onp.iscomplexobj(x) for x in leaves] for leaves, _ in flat]
    if not any(any(f) for f in flags) and not any(
            _fnp.iscomplexobj(o) for o in _tree.leaves(out)):
        _check_grads(fun, tuple(args), **kwargs)
        return
    split_args = tuple([(_onp.real(x), _onp.imag(x)) if c else x for x, c in zip(leaves, f)]
                       for (leaves, _), f in zip(flat, flags))

    def real_fun(*xs):
        full = tuple(_tree.unflatten(treedef, [p[0] + 1j * p[1] if c else p
                                               for p, c in zip(x, f)])
                     for x, (_, treedef), f in zip(xs, flat, flags))
        out = fun(*full)
        return _tree.map(lambda o: (_fnp.real(o), _fnp.imag(o))
                         if _fnp.iscomplexobj(o) else o, out)
    real_fun.__name__ = getattr(fun, "__name__", "fun")
    _check_grads(real_fun, split_args, **kwargs)


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
