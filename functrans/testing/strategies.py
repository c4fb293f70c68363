"""Hypothesis strategies for testing derivatives on any Array API library.

Built on :mod:`hypothesis.extra.array_api`, so the same strategy draws NumPy arrays,
array-api-strict arrays, CuPy arrays...: pass the library as ``xp`` — an Array API namespace
(``numpy``, ``array_api_strict``), a functrans backend name (``"numpy"``), a
:class:`functrans.backends.Backend`, or any object with an ``xp`` attribute (the test suite's
``backend`` fixture, whose ``device`` attribute, where set, is where arrays are drawn).

Values are drawn inside a :class:`Domain`: bounded, finite, no subnormals, and optionally
kept away from points where a function is not differentiable (``0`` for ``sqrt`` or
``abs``, ties for ``maximum``...). Finite differences need that margin.

Example:
    >>> from hypothesis import given
    >>> import functrans.numpy as fnp
    >>> from functrans.testing import check_grads, strategies as fts
    >>> @given(fts.arrays("numpy", domain=fts.positive()))
    ... def test_log(x):
    ...     check_grads(fnp.log, (x,), order=2)
    >>> test_log()
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hypothesis import strategies as st
from hypothesis.extra import array_api as _aa
from hypothesis.extra.array_api import make_strategies_namespace

__all__ = ["Domain", "real", "positive", "unit_interval", "away_from", "namespace",
           "float_dtypes", "shapes", "arrays", "broadcastable_shapes", "broadcastable_arrays",
           "pytrees", "array_pytrees"]

# -- domains ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Domain:
    """Where values are drawn: ``[low, high]``, at least ``margin`` away from each point of
    ``exclude``.

    Build them with :func:`real`, :func:`positive`, :func:`unit_interval` and
    :func:`away_from` (or ``domain.away_from(...)``).
    """

    low: float = -3.0
    high: float = 3.0
    exclude: tuple = ()
    margin: float = 0.1

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"Domain: low ({self.low}) must be below high ({self.high}).")
        if _allowed(self.low, self) is None:
            raise ValueError(f"Domain: no value of [{self.low}, {self.high}] is {self.margin} "
                             f"away from every point of {tuple(self.exclude)}.")

    def away_from(self, *points, margin=None):
        """This domain, also kept ``margin`` away from ``points``."""
        return Domain(self.low, self.high, tuple(self.exclude) + tuple(float(p) for p in points),
                      self.margin if margin is None else margin)


def real(low=-3.0, high=3.0) -> Domain:
    """Any real value in ``[low, high]`` (default ``[-3, 3]``, where ``exp`` and friends stay
    well scaled)."""
    return Domain(low, high)


def positive(low=0.1, high=4.0) -> Domain:
    """Positive values bounded away from 0 (``log``, ``sqrt``, ``pow`` bases, divisors)."""
    return Domain(low, high)


def unit_interval(margin=0.05) -> Domain:
    """Values in ``(0, 1)``, ``margin`` away from both ends (``atanh``, probabilities)."""
    return Domain(margin, 1.0 - margin)


def away_from(*points, low=-3.0, high=3.0, margin=0.1) -> Domain:
    """Values in ``[low, high]`` at least ``margin`` away from each of ``points``
    (non-differentiable points such as 0 for ``abs``)."""
    return Domain(low, high, tuple(float(p) for p in points), margin)


def _forbidden(domain):
    """The excluded intervals ``(p - margin, p + margin)``, merged where they overlap."""
    out = []
    for p in sorted(domain.exclude):
        lo, hi = p - domain.margin, p + domain.margin
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out


def _allowed(v, domain):
    """The allowed value of ``domain`` nearest to ``v`` (ties: upwards), None if none."""
    v = min(max(v, domain.low), domain.high)
    for lo, hi in _forbidden(domain):
        if lo < v < hi:
            cands = [c for c in (hi, lo) if domain.low <= c <= domain.high]
            if not cands:
                return None
            return min(cands, key=lambda c: abs(c - v))
    return v


def _push_away(v, domain, width):
    w = _allowed(v, domain)
    v = w if w is not None else v
    if width == 32:  # the value must be exactly representable in float32 (rounded inwards)
        import numpy as np
        v32 = float(np.float32(v))
        if v32 < domain.low or v32 > domain.high or _allowed(v32, domain) != v32:
            v32 = float(np.nextafter(np.float32(v), np.float32(math.inf if v32 < v
                                                                else -math.inf)))
        v = v32
    return v


def elements(domain: Domain = Domain(), width: int = 64):
    """Python floats in ``domain``, exactly representable at ``width`` bits."""
    lo, hi = domain.low, domain.high
    if width == 32:
        import numpy as np
        lo = float(np.nextafter(np.float32(lo), np.float32(math.inf))) \
            if float(np.float32(lo)) < lo else float(np.float32(lo))
        hi = float(np.nextafter(np.float32(hi), np.float32(-math.inf))) \
            if float(np.float32(hi)) > hi else float(np.float32(hi))
    base = st.floats(lo, hi, width=width, allow_nan=False, allow_infinity=False,
                     allow_subnormal=False)
    if not domain.exclude:
        return base
    return base.map(lambda v: _push_away(v, domain, width))

# -- namespaces and dtypes ----------------------------------------------------------------------

_NAMESPACES: dict = {}


def _xp(xp):
    if isinstance(xp, str):
        from ..backends import get_backend
        return get_backend(xp).xp
    inner = getattr(xp, "xp", None)
    return inner if inner is not None else xp


def namespace(xp):
    """The ``hypothesis.extra.array_api`` strategies namespace of ``xp`` (cached)."""
    ns = _xp(xp)
    key = id(ns)
    if key not in _NAMESPACES:
        _NAMESPACES[key] = (ns, make_strategies_namespace(ns))
    return _NAMESPACES[key][1]


def _width(xp, dtype) -> int:
    ns = _xp(xp)
    return 32 if dtype == getattr(ns, "float32", None) else 64


def _native(xp, dtype):
    """A native dtype of ``xp`` from a native dtype, a functrans dtype or a name."""
    ns = _xp(xp)
    if dtype is None or isinstance(dtype, st.SearchStrategy):
        return dtype
    name = getattr(dtype, "name", None) if not isinstance(dtype, str) else dtype
    if name in ("float32", "float64") and hasattr(ns, name):
        return getattr(ns, name)
    return dtype


def float_dtypes(xp, sizes=(32, 64)):
    """The library's real floating-point dtypes (float32 and float64 by default)."""
    return namespace(xp).floating_dtypes(sizes=sizes)

# -- shapes and arrays --------------------------------------------------------------------------


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Array shapes, small by default (derivative checks cost a few passes per element)."""
    return _aa.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def _device(xp, device):
    """The device arrays are drawn onto: ``device``, else the ``device`` attribute of an
    object with ``.xp`` that holds one (the test suite's backend fixture), else None (the
    library's default)."""
    if device is None:
        device = getattr(xp, "device", None)
        if callable(device):  # a Backend's device() method, not a device
            device = None
    return device


def arrays(xp, dtype=None, shape=None, domain: Domain = Domain(), *, unique=False,
           device=None):
    """Arrays of library ``xp`` with values in ``domain``.

    Args:
        xp: the library (namespace, backend name, Backend, or object with ``.xp``).
        dtype: a float dtype (native, functrans or name), a strategy of them, or None for
            any of the library's float32/float64.
        shape: a shape, a strategy of shapes, or None for :func:`shapes`'s default.
        domain: the value domain (:func:`real` by default).
        unique: all elements distinct.
        device: the device to put the arrays on (a GPU, say); None for the library's
            default (or the ``device`` attribute of ``xp`` where it has one).
    """
    xps = namespace(xp)
    dtype = _native(xp, dtype)
    if dtype is None:
        dtype = float_dtypes(xp)
    if shape is None:
        shape = shapes()
    if isinstance(dtype, st.SearchStrategy):
        return dtype.flatmap(lambda d: arrays(xp, d, shape, domain, unique=unique,
                                              device=device))
    drawn = xps.arrays(dtype, shape, elements=elements(domain, _width(xp, dtype)),
                       unique=unique)
    device = _device(xp, device)
    return drawn if device is None else drawn.map(lambda a: a.to_device(device))


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Tuples of ``num_shapes`` mutually broadcast-compatible shapes."""
    return _aa.mutually_broadcastable_shapes(
        num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side).map(lambda b: tuple(tuple(s) for s in b.input_shapes))


def broadcastable_arrays(xp, num=2, dtype=None, domain: Domain = Domain(), *, device=None,
                         **shape_kw):
    """Tuples of ``num`` arrays of one float dtype whose shapes broadcast together.

    ``domain`` is one :class:`Domain` for all, or a sequence with one per array; ``device``
    as for :func:`arrays`.
    """
    dtype = _native(xp, dtype)
    if dtype is None:
        dtype = float_dtypes(xp)
    doms = tuple(domain) if isinstance(domain, (tuple, list)) else (domain,) * num
    if len(doms) != num:
        raise ValueError(f"broadcastable_arrays: {len(doms)} domains for {num} arrays.")
    if isinstance(dtype, st.SearchStrategy):
        return dtype.flatmap(lambda d: broadcastable_arrays(xp, num, d, doms, device=device,
                                                            **shape_kw))
    return broadcastable_shapes(num, **shape_kw).flatmap(
        lambda shs: st.tuples(*[arrays(xp, dtype, s, dm, device=device)
                                for s, dm in zip(shs, doms)]))

# -- pytrees ------------------------------------------------------------------------------------


_KEYS = st.sampled_from(["a", "b", "w", "bias", "scale"])


def pytrees(leaves, max_leaves=4):
    """Nested dicts, tuples and lists whose leaves are drawn from ``leaves``."""
    def extend(children):
        return (st.lists(children, min_size=1, max_size=3)
                | st.lists(children, min_size=1, max_size=3).map(tuple)
                | st.dictionaries(_KEYS, children, min_size=1, max_size=3))
    return st.recursive(leaves, extend, max_leaves=max_leaves)


def array_pytrees(xp, dtype=None, shape=None, domain: Domain = Domain(), max_leaves=4, *,
                  device=None):
    """Pytrees of arrays of one dtype (drawn once per tree) of library ``xp`` (on ``device``,
    as for :func:`arrays`)."""
    dtype = _native(xp, dtype)
    if dtype is None:
        dtype = float_dtypes(xp)
    if isinstance(dtype, st.SearchStrategy):
        return dtype.flatmap(lambda d: array_pytrees(xp, d, shape, domain, max_leaves,
                                                     device=device))
    return pytrees(arrays(xp, dtype, shape, domain, device=device), max_leaves)
