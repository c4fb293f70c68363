"""Second derivatives taken in each order of the two transforms (the support-end tests of
scipy.stats compare them: a rule can be right in one order and wrong in another)."""
import numpy as np

import functrans as ft

ORDERS = {
    "hessian": lambda f, n: ft.hessian(f, argnums=n),
    "fwd-rev": lambda f, n: ft.jacfwd(ft.jacrev(f, argnums=n), argnums=n),
    "rev-fwd": lambda f, n: ft.jacrev(ft.jacfwd(f, argnums=n), argnums=n),
    "fwd-fwd": lambda f, n: ft.jacfwd(ft.jacfwd(f, argnums=n), argnums=n),
    "rev-rev": lambda f, n: ft.jacrev(ft.jacrev(f, argnums=n), argnums=n),
}


def hess_in_order(order, f, args):
    """The matrix of second derivatives of ``f`` in all of ``args``, as a float array."""
    n = tuple(range(len(args)))
    with np.errstate(all="ignore"):
        return np.array(ORDERS[order](f, n)(*args), dtype=float)
