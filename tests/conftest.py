"""Shared test fixtures: the backend matrix and hypothesis profiles.

Every test that takes the ``backend`` fixture runs once per backend present: numpy (with
read-only input arrays, so an accidental in-place write fails loudly) and array_api_strict
always; more backends are added in ``BACKEND_NAMES`` when their library is importable.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=20, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


class BackendCase:
    """A backend under test: makes its arrays from NumPy data and reads them back."""

    def __init__(self, name: str):
        import functrans.backends as fb
        self.name = name
        self.backend = fb.get_backend(name)
        self.xp = self.backend.xp

    def __repr__(self):
        return self.name

    def asarray(self, data, dtype="float64"):
        a = np.asarray(data, dtype=dtype)
        if self.name == "numpy":
            a = a.copy()
            a.flags.writeable = False  # functrans must never write to a user's array
            return a
        return self.xp.asarray(a)

    def to_numpy(self, x) -> np.ndarray:
        if isinstance(x, np.ndarray):
            return x
        if isinstance(x, np.generic):
            return np.asarray(x)
        try:
            return np.from_dlpack(x)
        except Exception:
            return np.asarray(x)

    def is_own(self, x) -> bool:
        """Whether ``x`` is an array of this backend (results must come back as such)."""
        return isinstance(x, self.backend.array_types)


def _available():
    names = ["numpy", "array_api_strict"]
    return [n for n in names if importlib.util.find_spec(n) is not None]


BACKEND_NAMES = _available()


@pytest.fixture(params=BACKEND_NAMES)
def backend(request) -> BackendCase:
    return BackendCase(request.param)
