"""functrans.scipy: SciPy's names, differentiable, on every backend.

:mod:`functrans.scipy.special` (``import functrans.scipy.special as fsp``),
:mod:`functrans.scipy.stats` (the normal distribution ``norm``) and
:mod:`functrans.scipy.linalg` (``solve_triangular``, ``cholesky``, ``cho_factor``,
``cho_solve``, ``solve``, ``inv``, ``det``, ``block_diag``) and :mod:`functrans.scipy.signal`
(``convolve``, ``correlate``, ``convolve2d``, ``correlate2d``, the short-time Fourier
analysis, ``get_window`` and the windows of ``scipy.signal.windows``), :mod:`functrans.scipy.integrate`
(``odeint``, ``trapezoid``, ``cumulative_trapezoid``, ``simpson``) and
:mod:`functrans.scipy.optimize` (``minimize``: BFGS and limited-memory BFGS),
:mod:`functrans.scipy.fft` (``dct``, ``dst`` and their inverses, types 1-4, n-dimensional
too, and the discrete Fourier transforms), :mod:`functrans.scipy.ndimage`
(``map_coordinates``, orders 0 to 5; ``spline_filter``, ``spline_filter1d``), :mod:`functrans.scipy.interpolate`
(``RegularGridInterpolator``), :mod:`functrans.scipy.spatial.transform` (``Rotation``) and
:mod:`functrans.scipy.cluster.vq` (``vq``), :mod:`functrans.scipy.sparse.linalg` (``cg``,
``bicgstab``, ``gmres``).
"""

from . import integrate, linalg, optimize, signal, special, stats  # noqa: F401
from . import cluster, fft, interpolate, ndimage, spatial, sparse  # noqa: F401

__all__ = ["special", "stats", "linalg", "signal", "integrate", "optimize", "fft", "ndimage",
           "interpolate", "spatial", "cluster", "sparse"]
