"""NumPy's joining, splitting, reshaping, padding and creation functions beyond the standard
(``concatenate``, ``hstack``, ``split``, ``transpose``, ``pad`` ...), with NumPy's semantics,
built on the namespace's differentiable functions."""

__all__ = []
