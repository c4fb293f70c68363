"""benchmarks/host_reads.py (a script, not part of the package) loaded as a fresh module for
the tests that count host reads; they skip where the checkout has no benchmarks/."""
from __future__ import annotations

import importlib.util
import pathlib

import pytest


def load_host_reads():
    path = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "host_reads.py"
    if not path.exists():
        pytest.skip("benchmarks/ not in this checkout")
    spec = importlib.util.spec_from_file_location("_host_reads_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
