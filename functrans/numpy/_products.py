"""NumPy's products beyond the standard: ``einsum``, ``dot``, ``inner``, ``outer``, ``vdot``,
``kron``, ``trace``, ``diagonal``, ``diag`` ... with NumPy's semantics, built on the
namespace's differentiable functions."""

__all__ = []
