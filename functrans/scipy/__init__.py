"""functrans.scipy: SciPy's names, differentiable, on every backend.

:mod:`functrans.scipy.special` (``import functrans.scipy.special as fsp``),
:mod:`functrans.scipy.stats` (the normal distribution ``norm``) and
:mod:`functrans.scipy.linalg` (``solve_triangular``, ``cholesky``, ``cho_factor``,
``cho_solve``, ``solve``, ``inv``, ``det``, ``block_diag``) and :mod:`functrans.scipy.signal`
(``convolve``, ``correlate``, ``convolve2d``, ``correlate2d``), :mod:`functrans.scipy.integrate`
(``odeint``, ``trapezoid``, ``cumulative_trapezoid``, ``simpson``) and
:mod:`functrans.scipy.optimize` (``minimize``: BFGS and limited-memory BFGS).
"""

from . import integrate, linalg, optimize, signal, special, stats  # noqa: F401

__all__ = ["special", "stats", "linalg", "signal", "integrate", "optimize"]
