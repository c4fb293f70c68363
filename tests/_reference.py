"""Helpers for tests that compare with a high-precision reference (mpmath)."""
import numpy as np
import pytest


def mpmath_or_skip():
    """mpmath (present in CI through torch's sympy), or skip the test."""
    return pytest.importorskip("mpmath")


def max_rel_err(got, want):
    """The largest relative error of ``got`` against ``want`` (absolute where ``want`` is 0)."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = np.where(want == 0.0, 1.0, np.abs(want))
    return float(np.max(np.abs(got - want) / scale))
