"""All primitives of functrans, one block per primitive with its rules right below it.

- :mod:`.elementwise`: arithmetic, transcendental functions, comparisons, select.
- :mod:`.structural`: reshape, broadcast, transpose, concat, flip, slicing, dtype conversion.
- :mod:`.reductions`: sum, max, min over axes.
- :mod:`.linalg`: matmul.
- :mod:`.special`: erf, erfc, erfinv, ndtri, lgamma, digamma, polygamma (through the
  backends' extras).
- :mod:`.fft`: discrete Fourier transforms (complex, real, inverse real).
- :mod:`.softmax`: the tangent maps of softmax and log_softmax (one primitive).
"""

from . import elementwise, indexing, linalg, reductions, sorting, structural  # noqa: F401
from . import fft, softmax, special  # noqa: F401
