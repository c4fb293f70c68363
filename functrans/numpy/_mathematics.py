"""NumPy's elementwise names, nan-reductions and statistics beyond the standard (``arccos``,
``power``, ``cumsum``, ``nansum``, ``average``, ``median``, ``isclose`` ...), with NumPy's
semantics, built on the namespace's differentiable functions."""

__all__ = []
