"""Shared test fixtures: the backend matrix and hypothesis profiles.

Every test that takes the ``backend`` fixture runs once per backend: numpy (with read-only
input arrays, so an accidental in-place write fails loudly) and array_api_strict always;
torch (CPU) when it is installed; cupy when CuPy and a GPU are present. A backend that
cannot run here still appears, skipped with the reason, so a run says what it did not cover.

``array_api_strict@device1`` runs the suite on array-api-strict with every input on its
second device, which, like a GPU, refuses to mix with the default device and to convert
implicitly to NumPy: anything functrans creates on the default device instead of the primal's
(a zero tangent, a seed, a basis, a mask) or pulls to the host fails there, without a GPU.
Since it runs everything the default device would and refuses more, the default device
(``array_api_strict``) runs only the tests that tell the two apart: the derivative tables,
which check values by finite differences there and the devices of tangents on the second
(see ``_backend_params_for``).

``FUNCTRANS_TEST_BACKENDS=numpy,torch pytest`` restricts the matrix (for a quick local run).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import zlib

# One BLAS/OpenMP thread per test process (set before NumPy, SciPy or torch load their
# libraries): pytest -n runs a process per core, and threaded BLAS on top of that makes small
# solves wait on each other (a 2x2 triangular solve took milliseconds).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from ._strict_fast_paths import (_fast_strict_checks, _fast_strict_equality,  # noqa: E402
                                 _fast_strict_lookups)

_fast_strict_equality()
_fast_strict_lookups()
_fast_strict_checks()


settings.register_profile("ci", max_examples=20, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


class BackendCase:
    """A backend under test: makes its arrays from NumPy data and reads them back."""

    def __init__(self, param: str):
        import functrans.backends as fb
        # "library" or "library@device": the backend's name, and the device inputs live on.
        self.name, _, device = param.partition("@")
        self.id = param
        if self.name in OPT_IN_BACKENDS:
            self.backend = OPT_IN_BACKENDS[self.name]()
        else:
            self.backend = fb.get_backend(self.name)
        self.xp = self.backend.xp
        self.device = self.xp.Device(device) if device else None

    def __repr__(self):
        return self.id

    def asarray(self, data, dtype="float64"):
        """An array of this backend holding ``data`` (NumPy's: read-only)."""
        a = np.array(data, dtype=dtype)  # always a fresh copy
        if self.name == "numpy":
            a.flags.writeable = False  # functrans must never write to a user's array
            return a
        if self.device is not None:
            return self.xp.asarray(a, device=self.device)
        return self.xp.asarray(a)

    def to_numpy(self, x) -> np.ndarray:
        """A NumPy copy of an array of this backend (or of a NumPy array or scalar)."""
        if isinstance(x, (np.ndarray, np.generic)):
            return np.asarray(x)
        return np.asarray(self.backend.to_numpy(x))

    def is_own(self, x) -> bool:
        """Whether ``x`` is an array of this backend, on this case's device (results must come
        back as such)."""
        if not isinstance(x, self.backend.array_types):
            return False
        return self.device is None or self.backend.device(x) == self.device

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
    name = name.partition("@")[0]
    if name == "cupy":
        return _cupy_skip_reason()
    if importlib.util.find_spec(name) is None:
        extra = " (pip install -e '.[test,torch]')" if name == "torch" else ""
        return f"{name} is not installed{extra}"
    return None


def _jax_backend():
    # JAX reached through its Array API namespace alone: functrans has no backend module for
    # it, so this is the backend made on first sight for any standard library
    # (functrans/backends/standard_backend.py); float64 needs JAX's x64 mode.
    import jax
    jax.config.update("jax_enable_x64", True)
    import functrans.backends as fb
    return fb.backend_of(jax.numpy.zeros(()))


# Libraries run only when FUNCTRANS_TEST_BACKENDS names them (their runs are long, and CI does
# not install them): name -> a function giving the backend.
OPT_IN_BACKENDS = {"jax": _jax_backend}

ALL_BACKENDS = ("numpy", "array_api_strict", "array_api_strict@device1", "torch", "cupy",
                *OPT_IN_BACKENDS)
_only = os.environ.get("FUNCTRANS_TEST_BACKENDS")
_selected = (tuple(n for n in ALL_BACKENDS if n not in OPT_IN_BACKENDS) if not _only
             else tuple(n.strip() for n in _only.split(",")))

BACKEND_PARAMS = []
for _name in ALL_BACKENDS:
    if _name in OPT_IN_BACKENDS and _name not in _selected:
        continue  # (not even as skipped cases: thousands of them would cost collection time)
    _reason = _skip_reason(_name)
    if _name not in _selected:
        _reason = f"{_name} is left out by FUNCTRANS_TEST_BACKENDS={_only}"
    BACKEND_PARAMS.append(pytest.param(_name, id=_name, marks=(
        pytest.mark.skip(reason=_reason),) if _reason else ()))

# The libraries that run here (by backend name, each once).
BACKEND_NAMES = list(dict.fromkeys(p.values[0].partition("@")[0] for p in BACKEND_PARAMS
                                   if not p.marks))


# array-api-strict's second device runs everything its default device runs and refuses more
# (arrays made on the wrong device, implicit conversion to NumPy): a test that treats the two
# devices alike therefore runs on the second device alone (CI time). A test whose source, or
# that of a helper of its module it calls, tells the devices apart (reads a ``device`` or
# ``id`` attribute, calls ``check_derivatives``, which checks values by finite differences on
# the default device and transposes on the second, mentions ``device1``) runs on both.
_DEVICE_NAMES = frozenset({"device", "id", "check_derivatives", "_N_DEVICE", "device1"})
_DEFAULT_STRICT = "array_api_strict"
_STRICT_SECOND_DEVICE = "array_api_strict@device1"


def _mentions(code, out):
    """The names and string constants of ``code`` and the code nested in it (read from the
    compiled code: reading the source cost seconds of collection)."""
    out.update(code.co_names)
    for const in code.co_consts:
        if isinstance(const, str):
            out.add(const)
        elif hasattr(const, "co_names"):
            _mentions(const, out)
    return out


def _tells_devices_apart(function) -> bool:
    code = getattr(function, "__code__", None)
    if code is None:
        return True  # (unknown: run on both devices)
    names = _mentions(code, set())
    module_globals = getattr(function, "__globals__", {})
    for name in list(names):
        helper = module_globals.get(name) if isinstance(name, str) else None
        if inspect.isfunction(helper) and helper.__module__ == function.__module__:
            _mentions(helper.__code__, names)
    return not names.isdisjoint(_DEVICE_NAMES)


def _backend_params_for(function):
    second_device_runs = any(p.values[0] == _STRICT_SECOND_DEVICE and not p.marks
                             for p in BACKEND_PARAMS)
    if not second_device_runs or _tells_devices_apart(function):
        return BACKEND_PARAMS
    return [p for p in BACKEND_PARAMS if p.values[0] != _DEFAULT_STRICT]


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", _backend_params_for(metafunc.function), indirect=True)


def _skipped_backend_ids():
    return {p.values[0] for p in BACKEND_PARAMS if p.marks}


def _buffer_progress_output(config):
    """Under ``PYTHONUNBUFFERED`` (set on CI machines) every progress dot the controller
    prints was its own write to the log pipe: ~60,000 system calls, a visible share of a
    two-core run. When the output is not a terminal, let it gather in the stream's buffer
    (written when full and at the end); a terminal keeps its live dots."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    stream = getattr(getattr(reporter, "_tw", None), "_file", None)
    if stream is None or getattr(stream, "write_through", False) is False:
        return
    try:
        if not stream.isatty():
            stream.reconfigure(write_through=False)
    except (AttributeError, ValueError, OSError):
        pass  # not a reconfigurable text stream: leave it


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    _buffer_progress_output(config)
    # ``@pytest.mark.backend_cases(keep=...)`` on a backend-parametrised test whose cases do not
    # all run on every backend: ``keep(backend_id, params)`` (``params``: the test's other
    # parameters by name) says whether a case runs there. The others are deselected at
    # collection, which costs nothing, where a skip inside the test costs a test's set-up each
    # (thousands of them: CI time).
    config.addinivalue_line("markers", "backend_cases(keep=...): run a test's case on a backend "
                            "only where keep(backend_id, params) says so (tests/conftest.py)")


# The dearest backend cases (tests/slow_cases.txt, made by tests/_list_slow_cases.py from a
# timed run): CI's run leaves them out, ``--run-slow`` (or FUNCTRANS_RUN_SLOW=1) runs them.
SLOW_CASES_FILE = os.path.join(os.path.dirname(__file__), "slow_cases.txt")


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the dearest backend cases listed in tests/slow_cases.txt "
                          "(left out by default: each has a cheaper case of the same test on "
                          "another backend that runs)")


def _slow_cases(config):
    if config.getoption("--run-slow") or os.environ.get("FUNCTRANS_RUN_SLOW") == "1":
        return frozenset()
    try:
        with open(SLOW_CASES_FILE, encoding="utf-8") as f:
            return frozenset(line.strip() for line in f
                             if line.strip() and not line.startswith("#"))
    except FileNotFoundError:
        return frozenset()


def pytest_report_header(config):
    slow = _slow_cases(config)
    if slow:
        return (f"{len(slow)} slow backend cases listed in tests/slow_cases.txt are left out; "
                "--run-slow runs them")
    return None


def pytest_collection_modifyitems(config, items):
    """Deselect the cases a ``backend_cases`` mark leaves out, all but one case of each test
    on a backend that cannot run here (cupy without a GPU: one skipped case per test still
    says what was not covered; fourteen thousand of them only cost time), and, unless
    ``--run-slow``, the slow backend cases of tests/slow_cases.txt."""
    unavailable = _skipped_backend_ids()
    slow = _slow_cases(config)
    reported = set()
    kept, dropped = [], []
    for item in items:
        if slow and item.nodeid in slow:
            dropped.append(item)
            continue
        callspec = getattr(item, "callspec", None)
        backend_id = callspec.params.get("backend") if callspec is not None else None
        if backend_id is None:
            kept.append(item)
            continue
        if backend_id in unavailable:
            key = (item.module.__name__ if item.module else "", item.originalname, backend_id)
            (dropped if key in reported else kept).append(item)
            reported.add(key)
            continue
        mark = item.get_closest_marker("backend_cases")
        if mark is not None and not mark.kwargs["keep"](backend_id, callspec.params):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def backend(request) -> BackendCase:
    return BackendCase(request.param)


_MODULE_RNG_NAMES = ("RNG", "rng", "_RNG")


# mpmath's working precision (bits) that each test module's import set (mpmath.mp.dps = 50 at
# the top of a module), by the module's path; the others run at mpmath's default, 53 bits
_MPMATH_PREC: dict = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """Records the mpmath precision a test module's import sets (see pytest_runtest_setup)."""
    mpmath = sys.modules.get("mpmath")
    if not isinstance(collector, pytest.Module):
        yield
        return
    if mpmath is not None:
        mpmath.mp.prec = 53   # (a module setting the precision already in force is seen too)
    yield
    mpmath = sys.modules.get("mpmath")
    if mpmath is not None and mpmath.mp.prec != 53:
        _MPMATH_PREC[collector.path] = mpmath.mp.prec


def pytest_runtest_setup(item):
    """mpmath's precision is global: a module's ``mp.dps = 50`` at import held only until
    the next module's import (collection imports them all first), and a test setting it
    changed it for every later test of its worker, which ``--dist worksteal`` orders
    differently from run to run (test_s30_stats30's nbinom references, computed at 15
    digits, failed now and then). Each test starts at its own module's precision.

    A test module's shared generator (``RNG = np.random.default_rng(...)``), drawn from by
    several tests, gave each test data that depended on which tests ran before it in the same
    worker, which ``-n auto --dist worksteal`` changes from run to run (a tight tolerance then
    failed now and then). Each test starts from a generator seeded by its own id instead, so
    its data are the same in every run and every order. (A hook, not an autouse fixture: the
    fixture machinery cost ~0.3 ms for each of the suite's 60,000 cases.)"""
    mpmath = sys.modules.get("mpmath")
    if mpmath is not None:
        mpmath.mp.prec = _MPMATH_PREC.get(item.path, 53)
    module = getattr(item, "module", None)
    for name in _MODULE_RNG_NAMES:
        if isinstance(getattr(module, name, None), np.random.Generator):
            setattr(module, name, np.random.default_rng(zlib.crc32(item.nodeid.encode())))


@pytest.fixture
def numpy_without_bfloat16():
    """NumPy's namespace and implementations as in a process that has not used bfloat16, for
    the frame-count tests: once a test has used NumPy's bfloat16 (ml_dtypes') in the same
    worker, a few NumPy functions take one frame more for every dtype (where, clip, sums,
    matmul...: NumPyBackend.load_bfloat16), a cost that a process without bfloat16 does not
    pay and that those tests are not about."""
    from functrans.backends import get_backend, register
    from functrans.backends.numpy_backend import AtArray
    b = get_backend("numpy")
    plain = getattr(b, "_without_bfloat16", None)
    if plain is None:   # (bfloat16 not loaded in this worker)
        yield
        return
    now = (b.xp, b.impls, AtArray.__matmul__, AtArray.__rmatmul__)

    def put(xp, impls, matmul, rmatmul):
        b.xp, b.impls, AtArray.__matmul__, AtArray.__rmatmul__ = xp, dict(impls), matmul, rmatmul
        b._extra_cache.clear()
        register(b)   # (every primitive's cached implementation starts over)
    put(*plain)
    try:
        yield
    finally:
        put(*now)
