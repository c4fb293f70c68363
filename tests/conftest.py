"""Shared test fixtures: the backend matrix and hypothesis profiles.

Every test that takes the ``backend`` fixture runs once per backend: numpy (with read-only
input arrays, so an accidental in-place write fails loudly) and array_api_strict always;
torch (CPU) when it is installed; cupy when CuPy and a GPU are present. A backend that
cannot run here still appears, skipped with the reason, so a run says what it did not cover.

``FUNCTRANS_TEST_BACKENDS=numpy,torch pytest`` restricts the matrix (for a quick local run).
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
        """An array of this backend holding ``data`` (NumPy's: read-only)."""
        a = np.array(data, dtype=dtype)  # always a fresh copy
        if self.name == "numpy":
            a.flags.writeable = False  # functrans must never write to a user's array
            return a
        return self.xp.asarray(a)

    def to_numpy(self, x) -> np.ndarray:
        """A NumPy copy of an array of this backend (or of a NumPy array or scalar)."""
        if isinstance(x, (np.ndarray, np.generic)):
            return np.asarray(x)
        return np.asarray(self.backend.to_numpy(x))

    def is_own(self, x) -> bool:
        """Whether ``x`` is an array of this backend (results must come back as such)."""
        return isinstance(x, self.backend.array_types)

    @property
    def float_dtype(self):
        """This library's float64 dtype object."""
        return self.backend.native_dtype("float64")


def _cupy_skip_reason():
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed (it needs a CUDA GPU: pip install -e '.[test,gpu]')"
    try:
        import cupy
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # no driver, no device...
        return f"CuPy is installed but no GPU is usable ({type(e).__name__}: {e})"
    return None if n > 0 else "CuPy is installed but no GPU is present"


def _skip_reason(name):
    if name == "cupy":
        return _cupy_skip_reason()
    if importlib.util.find_spec(name) is None:
        extra = " (pip install -e '.[test,torch]')" if name == "torch" else ""
        return f"{name} is not installed{extra}"
    return None


ALL_BACKENDS = ("numpy", "array_api_strict", "torch", "cupy")
_only = os.environ.get("FUNCTRANS_TEST_BACKENDS")
_selected = ALL_BACKENDS if not _only else tuple(n.strip() for n in _only.split(","))

BACKEND_PARAMS = []
for _name in ALL_BACKENDS:
    _reason = _skip_reason(_name)
    if _name not in _selected:
        _reason = f"{_name} is left out by FUNCTRANS_TEST_BACKENDS={_only}"
    BACKEND_PARAMS.append(pytest.param(_name, id=_name, marks=(
        pytest.mark.skip(reason=_reason),) if _reason else ()))

# The backends that run here.
BACKEND_NAMES = [p.values[0] for p in BACKEND_PARAMS if not p.marks]


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request) -> BackendCase:
    return BackendCase(request.param)
