"""Third-party code written against the Array API standard, differentiated unchanged (round 8;
see test_ported_programs.py to 7): SciPy's functions converted to the standard (run with
``SCIPY_ARRAY_API=1``, where ``scipy.special``, ``scipy.stats``, ``scipy.integrate``,
``scipy.fft``, ``scipy.signal`` and ``scipy.cluster`` take the namespace of their arguments
through array-api-compat, which for a tracer is ``functrans.numpy``), array-api-extra's
functions not already in test_namespace_interop.py, and short programs written the Array API
way (``xp = array_namespace(x)``, then only the standard: logistic regression, a Gaussian
process's likelihood through ``xp.linalg.cholesky``, attention, a Kalman filter, Sinkhorn).

SciPy reads ``SCIPY_ARRAY_API`` once, when it is first imported, and the suite imports it
early: the SciPy checks run in one fresh interpreter (this module run as a script, for every
backend of the matrix at once), whose results the tests below read.

First the regressions found while porting: SciPy's elementwise special functions
(``erf``, ``ndtr``, ``gammaln``, ``entr``..., and the ``scipy.stats`` code built on them)
converted tracers to NumPy (TracerArrayConversionError): SciPy looks for them in
``xp.special`` (the Array API's proposed extension) and falls back to NumPy when the namespace
has none; ``functrans.numpy.special`` now holds ``functrans.scipy.special``'s functions. And
``full``/``full_like`` with a 0-d array as the value gave a broadcast view (read-only on NumPy
and array-api-strict, all elements one memory cell on torch) where SciPy writes into the new
array. And SciPy mixing the constants it makes (a comparison's result, an ``xp.asarray``
constant, an array from a creation function) with a tracer, in ``array_namespace`` ("Multiple
namespaces") or by item assignment: under forward mode functrans.numpy's constants are
tracers too (CONSTANTS; under vmap and jit as well: JIT_TOO). Then the gaps, as strict xfails:
SciPy calling ``np.asarray``, Python control flow on values; then the programs.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors as ferrors
from functrans.testing import check_grads

xpx = pytest.importorskip("array_api_extra")
compat = pytest.importorskip("array_api_compat")
array_namespace = compat.array_namespace

# SciPy's conversion to the standard moves from release to release: the checks below are those
# of this minor version (older ones convert fewer functions, newer ones may close gaps).
SCIPY_CHECKED = (1, 17)

# -- the SciPy checks, run in a fresh interpreter ---------------------------------------------


def _scipy_cases():
    """name -> (function of one array, data), each run on every backend (see
    _run_scipy_checks for the checks)."""
    import scipy.cluster.vq as vq
    import scipy.fft as sfft
    import scipy.integrate as si
    import scipy.signal as sg
    import scipy.special as ss
    import scipy.stats as st
    from scipy.differentiate import derivative
    from scipy.optimize.elementwise import find_root

    x = np.array([0.3, 0.5, 0.9, 1.25, 2.0])
    m = np.array([[0.3, 0.5, 0.9], [1.25, 2.0, 0.7], [0.45, 1.1, 1.6]])

    def s(f):
        return lambda x: fnp.sum(f(x))
    return {
        # elementwise special functions (through functrans.numpy.special)
        "expit": (s(ss.expit), x), "logit": (s(lambda x: ss.logit(x / 3)), x),
        "erf": (s(ss.erf), x), "erfc": (s(ss.erfc), x), "gammaln": (s(ss.gammaln), x),
        "psi": (s(ss.psi), x), "ndtr": (s(ss.ndtr), x), "ndtri": (s(lambda x: ss.ndtri(x / 3)), x),
        "log_ndtr": (s(ss.log_ndtr), x), "entr": (s(ss.entr), x),
        "xlogy": (s(lambda x: ss.xlogy(x, x + 1.0)), x),
        "rel_entr": (s(lambda x: ss.rel_entr(x, fnp.flip(x))), x), "i0": (s(ss.i0), x),
        "gammainc": (s(lambda x: ss.gammainc(2.0, x)), x),
        "betainc": (s(lambda x: ss.betainc(2.0, 3.0, x / 3)), x),
        "stdtr": (s(lambda x: ss.stdtr(3.0, x - 1.0)), x),
        # (gaps until session 18, which added them to functrans.scipy.special)
        "j0": (s(ss.j0), x),
        "binom": (s(lambda x: ss.binom(5.0, x * 2.0) + ss.binom(x - 3.7, 2.5)), x),
        # reductions of scipy.special
        "logsumexp": (lambda x: ss.logsumexp(x, axis=1), m),
        "logsumexp_b": (lambda x: ss.logsumexp(x, b=x * x), m),
        "softmax": (lambda x: ss.softmax(x, axis=0) ** 2, m),
        "log_softmax": (lambda x: ss.log_softmax(x, axis=1), m),
        # scipy.stats
        "moment": (lambda x: st.moment(x, order=3), x), "skew": (st.skew, x),
        "kurtosis": (st.kurtosis, x), "zscore": (lambda x: st.zscore(x) ** 3, x),
        "zmap": (lambda x: st.zmap(x, x * x), x), "pmean": (lambda x: st.pmean(x, 2.5), x),
        "gmean": (st.gmean, x), "hmean": (st.hmean, x), "entropy": (st.entropy, x),
        "entropy_qk": (lambda x: st.entropy(x, fnp.flip(x)), x),
        "describe": (lambda x: st.describe(x, axis=0).variance, m), "sem": (st.sem, x),
        "tvar": (st.tvar, x), "tstd": (st.tstd, x),
        "trim_mean": (lambda x: st.trim_mean(x, 0.2), x), "circmean": (st.circmean, x),
        "circvar": (st.circvar, x), "circstd": (st.circstd, x),
        "differential_entropy": (st.differential_entropy, np.linspace(0.2, 2.0, 9) ** 2),
        "gstd": (st.gstd, x), "kstat": (lambda x: st.kstat(x, 3), x),
        "kstatvar": (st.kstatvar, x),
        # scipy.integrate, scipy.fft, scipy.signal, scipy.cluster
        "trapezoid": (lambda x: si.trapezoid(x * x, x), x),
        "cumulative_trapezoid": (lambda x: si.cumulative_trapezoid(fnp.sin(x), x), x),
        "fft": (lambda x: fnp.abs(sfft.fft(x)) ** 2, x),
        "rfft_irfft": (lambda x: sfft.irfft(sfft.rfft(x) * sfft.rfft(x * x), 5), x),
        "fftshift": (lambda x: sfft.fftshift(x) * x, x),
        "fftconvolve": (lambda x: sg.fftconvolve(x, x * x), x),
        "hilbert": (lambda x: fnp.abs(sg.hilbert(x)), x),
        "whiten": (lambda x: vq.whiten(x) ** 2, m),
        # constants beside tracers (see CONSTANTS)
        "variation": (st.variation, x), "quantile": (lambda x: st.quantile(x, 0.3), x),
        "median_abs_deviation": (st.median_abs_deviation, x),
        "tmean": (lambda x: st.tmean(x, (0.4, 1.5)), x),
        "ttest_1samp": (lambda x: st.ttest_1samp(x, 1.0).statistic, x),
        "pearsonr": (lambda x: st.pearsonr(x, x * x).statistic, x),
        "chisquare": (lambda x: st.power_divergence(x, fnp.flip(x)).statistic, x),
        "boxcox_llf": (lambda x: st.boxcox_llf(0.5, x), x),
        "derivative": (lambda x: derivative(fnp.sin, x).df, x),
        "cumulative_simpson": (lambda x: si.cumulative_simpson(x * x, x=x), x),
        "find_root": (lambda x: find_root(lambda t, c: t ** 3 - c, (x * 0.0, x * 0.0 + 3.0),
                                          args=(x,)).x, x),
        "tanhsinh": (lambda x: si.tanhsinh(lambda t, c: fnp.exp(-c * t * t), x * 0.0,
                                           x * 0.0 + 1.0, args=(x,)).integral, x),
    }


# SciPy functions that check their input's values with Python `if`s (or select by a boolean
# mask): eager transforms only (see the gaps).
EAGER_ONLY = ("pmean", "hmean", "tvar", "tstd")

# SciPy functions that meet the constants they make (xp.asarray(p), xp.zeros, a comparison's
# result) with the tracers through array_namespace, or write traced values into them by item
# assignment: under forward mode (jvp, grad, jacfwd...) functrans.numpy's constants are
# tracers too (functrans.interpreters.ConstTracer), so both work; under vmap and jit as well.
# Eager forward and reverse mode; vmap for VMAP_TOO and jit for JIT_TOO (the others check
# values with Python `if`s or select by boolean masks, which vmap and jit cannot do).
CONSTANTS = ("variation", "quantile", "median_abs_deviation", "tmean", "ttest_1samp",
             "pearsonr", "chisquare", "boxcox_llf", "derivative", "cumulative_simpson",
             "find_root", "tanhsinh")
# scipy.differentiate.derivative makes its weights with NumPy and passes them to xp.asarray,
# which does not copy a NumPy array into another library: NumPy inputs only.
NUMPY_ONLY = ("derivative",)
VMAP_TOO = ("variation", "ttest_1samp", "boxcox_llf")
# (variation and ttest_1samp under jit were "Multiple namespaces": an xp.asarray constant of
# theirs beside the staged tracer)
JIT_TOO = ("variation", "ttest_1samp", "boxcox_llf")


# run on array-api-strict's second device too (the rest, for time, on its first only)
ON_SECOND_DEVICE = ("erf", "gammainc", "betainc", "stdtr", "entr", "rel_entr", "logsumexp_b",
                    "softmax", "skew", "zscore", "entropy_qk", "describe", "trim_mean",
                    "circstd", "gstd", "cumulative_trapezoid", "rfft_irfft", "fftconvolve",
                    "hilbert", "whiten", "tvar", "quantile", "tmean", "pearsonr", "find_root")


def _scipy_gaps():
    """name -> a function of a NumPy array that fails (the gaps' tests say how)."""
    import scipy.fft as sfft
    import scipy.integrate as si
    import scipy.signal as sg
    import scipy.special as ss
    import scipy.stats as st

    def grad(f):
        return lambda x: ft.grad(lambda x: fnp.sum(f(x)))(x)
    return {
        # a Python `if` on whether the data holds a NaN (until the constants were tracers
        # under jit too, "Multiple namespaces" came first)
        "quantile_jit": ft.jit(lambda x: st.quantile(x, 0.3)),
        # NumPy-only code paths (np.asarray of the argument)
        "lfilter": grad(lambda x: sg.lfilter(fnp.asarray([1.0, 0.5]),
                                              fnp.asarray([1.0, -0.3]), x)),
        "simpson": grad(lambda x: si.simpson(x * x, x=x)),
        "dct": grad(sfft.dct),
        "convolve": grad(lambda x: sg.convolve(x, x)),
        "detrend": grad(lambda x: sg.detrend(x) ** 2),
        "welch": grad(lambda x: sg.welch(x, nperseg=4)[1]),
        "expectile": grad(lambda x: st.expectile(x, 0.3)),
        "Normal": grad(lambda x: st.Normal(mu=x, sigma=1.2).logpdf(0.3)),
        "softplus": grad(ss.softplus),
        # input validation by Python `if` on values: needs concrete values
        "pmean_jit": ft.jit(lambda x: st.pmean(x, 2.5)),
        "hmean_vmap": lambda x: ft.vmap(st.hmean)(fnp.stack([x, 2.0 * x])),
        "tvar_vmap": lambda x: ft.vmap(st.tvar)(fnp.stack([x, 2.0 * x])),
    }


GAP_REASONS = {
    "quantile_jit": "scipy.stats.quantile checks its data for NaNs with a Python `if` "
                    "(`if contains_nans:`), which jit cannot stage (nor can jax.jit); its "
                    "xp.asarray constants are constant tracers under jit, as under grad",
    "lfilter": "scipy.signal.lfilter runs NumPy's _linear_filter on np.asarray of its inputs "
               "for every namespace but NumPy's",
    "simpson": "scipy.integrate.simpson calls np.asarray on its input (NumPy only)",
    "dct": "scipy.fft's real transforms (dct, dst) run pocketfft on np.asarray of the input "
           "for every namespace without a native one",
    "convolve": "scipy.signal.convolve calls np.asarray on its inputs",
    "detrend": "scipy.signal.detrend calls np.asarray on its input",
    "welch": "scipy.signal.welch (csd) calls np.asarray on its input",
    "expectile": "scipy.stats.expectile calls np.asarray on its input",
    "Normal": "the new distribution infrastructure (scipy.stats.Normal...) converts its "
              "parameters with np.asarray",
    "softplus": "scipy.special.softplus is NumPy's logaddexp ufunc (not converted to the "
                "standard), which tracers refuse (__array_ufunc__ = None)",
    "pmean_jit": "scipy.stats.pmean checks its input with a Python `if` on values, which jit "
                 "cannot stage",
    "hmean_vmap": "scipy.stats.hmean checks its input with a Python `if` on values, one per "
                  "batch member under vmap",
    "tvar_vmap": "scipy.stats.tvar selects the values within its limits by a boolean mask, "
                 "whose size differs from one batch member to the next",
}


def _array_maker(backend_id):
    """How the suite's ``backend`` fixture makes this backend's arrays and reads them back."""
    from .conftest import BackendCase
    case = BackendCase(backend_id)
    return case.asarray, case.to_numpy


def _status(run):
    try:
        run()
        return "ok"
    except Exception as e:  # recorded, judged by the tests
        first = str(e).splitlines()[0] if str(e) else ""
        return f"{type(e).__name__}: {first[:300]}"


def _run_scipy_checks(backend_ids):
    """Every case on every backend: one status string per (backend, case, check). On NumPy
    the derivatives are checked against finite differences (SciPy's own code on NumPy
    arrays), eagerly, and jit's against those; on the other libraries the eager derivatives
    against NumPy's and the values against SciPy's on NumPy (every evaluation traced, so
    through functrans.numpy: SciPy's own code outside transforms fails on some of them, e.g.
    an array-api-strict array on its second device, or torch.special.gammainc given a
    Python float)."""
    import scipy
    cases, out = _scipy_cases(), {"scipy": scipy.__version__}
    derivs = {}   # name -> NumPy's (grad of sum f^2, jvp along x), once checked
    for bid in ["numpy"] + [b for b in backend_ids if b != "numpy"]:
        make, to_np = _array_maker(bid)
        for name, (f, data) in cases.items():
            if "@" in bid and name not in ON_SECOND_DEVICE:
                continue
            if name in NUMPY_ONLY and bid != "numpy":
                continue
            ref = np.asarray(f(np.array(data)))  # SciPy on NumPy, no functrans inside
            x = make(data)
            eager = name in EAGER_ONLY or name in CONSTANTS

            def derivatives():
                return (to_np(ft.grad(lambda x: fnp.sum(f(x) ** 2))(x)),
                        to_np(ft.jvp(f, (x,), (x,))[1]))

            def jit():
                np.testing.assert_allclose(to_np(ft.jit(f)(x)), ref, rtol=1e-12, atol=1e-13)

            def grads():  # ("rev": the VJP against the JVP and finite differences)
                if bid == "numpy":
                    check_grads(f, (x,), order=1, modes=("rev",))
                    derivs[name] = derivatives()
                    if not eager:
                        jitted = ft.jit(lambda x: (ft.grad(lambda x: fnp.sum(f(x) ** 2))(x),
                                                   ft.jvp(f, (x,), (x,))[1]))(x)
                        for a, b in zip(jitted, derivs[name]):
                            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
                else:
                    for a, b in zip(derivatives(), derivs[name]):
                        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)

            def jitted():  # values; jit of the derivatives, derivatives of jit (JIT_TOO)
                np.testing.assert_allclose(to_np(ft.jit(f)(x)), ref, rtol=1e-12, atol=1e-13)
                jf = ft.jit(f)
                if bid == "numpy":  # against finite differences
                    check_grads(jf, (x,), order=1, modes=("fwd", "rev"))
                of_jit = (to_np(ft.grad(lambda x: fnp.sum(jf(x) ** 2))(x)),
                          to_np(ft.jvp(jf, (x,), (x,))[1]))
                jit_of = ft.jit(lambda x: (ft.grad(lambda x: fnp.sum(f(x) ** 2))(x),
                                           ft.jvp(f, (x,), (x,))[1]))(x)
                for a, b, c in zip(of_jit, jit_of, derivs[name]):
                    np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-14)
                    np.testing.assert_allclose(to_np(b), c, rtol=1e-12, atol=1e-14)

            def vmap():
                two = np.stack([np.array(data), 1.5 * np.array(data)])
                want = np.stack([ref, np.asarray(f(two[1]))])
                got = ft.vmap(f)(make(two))
                np.testing.assert_allclose(to_np(got), want, rtol=1e-12, atol=1e-13)
            if not eager:
                checks = (grads, jit, vmap)
            else:
                checks = (grads,) + ((vmap,) if name in VMAP_TOO else ()) + (
                    (jitted,) if name in JIT_TOO else ())
            for check in checks:
                status = _status(check)
                if bid in backend_ids:
                    out[f"{bid}|{name}|{check.__name__}"] = status
    make, _ = _array_maker("numpy")
    x = make([0.3, 0.5, 0.9, 1.25, 2.0])
    for name, run in _scipy_gaps().items():
        out[f"gap|{name}"] = _status(lambda: run(x))
    # closed forms: d/dx logsumexp = softmax, erf' = 2/sqrt(pi) exp(-x^2), ndtr' = the normal
    # density, d/dx sum entr(x) = -log(x) - 1, gammaln' = digamma (SciPy's on NumPy)
    import scipy.special as ss
    v = np.array([0.3, 0.5, 0.9, 1.25, 2.0])
    by_hand = {
        "logsumexp": (lambda x: ss.logsumexp(x), np.exp(v - np.log(np.sum(np.exp(v))))),
        "erf": (lambda x: fnp.sum(ss.erf(x)), 2 / math.sqrt(math.pi) * np.exp(-v * v)),
        "ndtr": (lambda x: fnp.sum(ss.ndtr(x)), np.exp(-v * v / 2) / math.sqrt(2 * math.pi)),
        "entr": (lambda x: fnp.sum(ss.entr(x)), -np.log(v) - 1.0),
        "gammaln": (lambda x: fnp.sum(ss.gammaln(x)), ss.psi(v)),
    }
    for bid in backend_ids:
        make, to_np = _array_maker(bid)
        for name, (f, want) in by_hand.items():
            out[f"{bid}|{name}|by_hand"] = _status(lambda: np.testing.assert_allclose(
                to_np(ft.grad(f)(make(v))), want, rtol=1e-12, atol=1e-14))
    # SciPy code that makes an array without saying where (lmoment: xp.arange(n, dtype=...)):
    # inside a transform it is made on the library and device of the values transformed
    # (it was the default backend's, NumPy, beside the input's library); with
    # functrans.default_backend set to the input's library around the call it runs too
    import scipy.stats as st

    def lmoment(x):
        return st.lmoment(x, order=2)
    want = ft.grad(lmoment)(v)
    check_grads(lmoment, (v,), order=1, modes=("rev",))
    # (its binom is functrans.numpy.special's, as the arange is a constant tracer; the middle
    # element of the gradient is 0 up to rounding)
    for bid in backend_ids:
        if bid == "numpy":
            continue
        make, to_np = _array_maker(bid)
        out[f"{bid}|lmoment|plain"] = _status(lambda: np.testing.assert_allclose(
            to_np(ft.grad(lmoment)(make(v))), want, rtol=1e-12, atol=1e-15))

        if "@" in bid:  # (the default backend makes arrays on the library's first device)
            continue

        def within():
            with ft.default_backend(bid):
                np.testing.assert_allclose(to_np(ft.grad(lmoment)(make(v))), want, rtol=1e-12,
                                           atol=1e-15)
        out[f"{bid}|lmoment|default_backend"] = _status(within)
    print(json.dumps(out))


def _backend_ids():
    from .conftest import BACKEND_PARAMS
    return [p.values[0] for p in BACKEND_PARAMS if not p.marks]


@pytest.fixture(scope="module")
def scipy_results():
    scipy = pytest.importorskip("scipy")
    if tuple(int(p) for p in scipy.__version__.split(".")[:2]) != SCIPY_CHECKED:
        pytest.skip(f"the SciPy checks are those of SciPy {SCIPY_CHECKED[0]}."
                    f"{SCIPY_CHECKED[1]} (here {scipy.__version__}), whose conversion to the "
                    f"Array API they record")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-m", "tests.test_ported_programs8", *_backend_ids()],
                       env=env, cwd=root, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def _ok(results, key):
    backend_id, name, _ = key.split("|")
    if "@" in backend_id and name not in ON_SECOND_DEVICE:
        pytest.skip("checked on array-api-strict's first device only (time)")
    status = results[key]
    assert status == "ok", f"{key}: {status}"


# -- regression: functrans.numpy.special, where SciPy looks for special functions ------------


def test_namespace_has_the_special_extension():
    import functrans.scipy.special as fsp
    assert hasattr(fnp, "special")
    for name in fsp.__all__:
        assert getattr(fnp.special, name) is getattr(fsp, name), name
    with pytest.raises(AttributeError, match="no attribute 'specials'"):
        fnp.specials  # noqa: B018  (other missing names still say so)
    check_grads(lambda x: fnp.special.ndtri(fnp.special.expit(x)), (np.array([0.3, -1.2]),),
                order=2)


ELEMENTWISE = ["expit", "logit", "erf", "erfc", "gammaln", "psi", "ndtr", "ndtri", "log_ndtr",
               "entr", "xlogy", "rel_entr", "i0", "gammainc", "betainc", "stdtr", "j0", "binom"]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_scipy_special_elementwise_through_the_namespace(scipy_results, backend, name):
    for check in ("grads", "jit", "vmap"):
        _ok(scipy_results, f"{backend.id}|{name}|{check}")


@pytest.mark.parametrize("name", ["logsumexp", "erf", "ndtr", "entr", "gammaln"])
def test_scipy_special_gradients_against_closed_forms(scipy_results, backend, name):
    _ok(scipy_results, f"{backend.id}|{name}|by_hand")


# -- regression: full and full_like with a 0-d array as the value ----------------------------
# (scipy.integrate.tanhsinh: ``zero = xp.full(shape, xp.asarray(0.0)); zero[mask] = xp.nan``)


@pytest.mark.parametrize("make", ["full", "full_like"])
def test_full_of_a_0d_array_is_a_new_writable_array(backend, make):
    value = backend.asarray(2.5)
    fill = ((lambda v: fnp.full((3,), v)) if make == "full"
            else (lambda v: fnp.full_like(backend.asarray([1.0, 2.0, 3.0]), v)))
    out = fill(value)
    assert backend.is_own(out)
    out[1] = -1.0      # NumPy and array-api-strict refused (a read-only broadcast view); torch
    np.testing.assert_array_equal(backend.to_numpy(out), [2.5, -1.0, 2.5])  # wrote all three
    assert float(backend.to_numpy(value)) == 2.5    # (and the value passed in, through a view)

    def f(x):       # under a transform: the same, and a traced value keeps its derivative
        z = fill(backend.asarray(0.0))
        z[0] = 4.0
        return fnp.sum(x * z) + fnp.sum(fill(x[1] * 3.0))
    x = backend.asarray([1.5, 0.5, 2.0])
    np.testing.assert_allclose(backend.to_numpy(ft.grad(f)(x)), [4.0, 9.0, 0.0])
    np.testing.assert_allclose(backend.to_numpy(ft.jit(ft.grad(f))(x)), [4.0, 9.0, 0.0])


# -- the gaps --------------------------------------------------------------------------------

_EXC = {"TypeError": TypeError, "TracerArrayConversionError": ferrors.TracerArrayConversionError,
        "DerivativeDroppedError": ferrors.DerivativeDroppedError,
        "ConcretizationError": ferrors.ConcretizationError,
        "BatchingError": ferrors.BatchingError}

# (the expected exception and message of each, without importing SciPy in this process)
GAP_EXPECTED = {
    "quantile_jit": ("ConcretizationError", "bool()"),
    **{n: ("TracerArrayConversionError", "converted to a NumPy array") for n in (
        "lfilter", "simpson", "dct", "convolve", "detrend", "welch", "expectile", "Normal")},
    "softplus": ("TypeError", "does not support ufuncs"),
    "pmean_jit": ("ConcretizationError", ""), "hmean_vmap": ("ConcretizationError", ""),
    "tvar_vmap": ("BatchingError", "nonzero"),
}


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(reason=GAP_REASONS[n], strict=True,
                                            raises=_EXC[GAP_EXPECTED[n][0]]))
    for n in GAP_EXPECTED])
def test_scipy_gap(scipy_results, name):
    status = scipy_results[f"gap|{name}"]
    if status == "ok":
        return  # (an XPASS: the gap closed)
    kind, pattern = GAP_EXPECTED[name]
    assert status.startswith(kind + ":") and pattern in status, status  # else: another failure
    raise _EXC[kind](status)


def _other_library(backend):
    if backend.name == "numpy" or backend.device is not None:
        pytest.skip("NumPy is the default backend; the default backend makes arrays on the "
                    "library's first device")


def test_scipy_array_made_without_a_device_with_the_default_backend(scipy_results, backend):
    _other_library(backend)
    _ok(scipy_results, f"{backend.id}|lmoment|default_backend")


def test_scipy_array_made_without_a_device(scipy_results, backend):
    # regression: SciPy's xp.arange(n) inside grad was a NumPy array beside torch's or
    # array-api-strict's (BackendMismatchError); now it is made where the input is
    # (and on array-api-strict's second device, where SciPy's own binom converted the arange
    # to NumPy: functrans.numpy.special has binom now)
    if backend.name == "numpy":
        pytest.skip("NumPy is the default backend")
    assert scipy_results[f"{backend.id}|lmoment|plain"] == "ok"


# -- SciPy's programs ------------------------------------------------------------------------

STATS = ["moment", "skew", "kurtosis", "zscore", "zmap", "gmean", "entropy", "entropy_qk",
         "describe", "sem", "trim_mean", "circmean", "circvar", "circstd",
         "differential_entropy", "gstd", "kstat", "kstatvar"]
REDUCTIONS = ["logsumexp", "logsumexp_b", "softmax", "log_softmax"]
OTHERS = ["trapezoid", "cumulative_trapezoid", "fft", "rfft_irfft", "fftshift", "fftconvolve",
          "hilbert", "whiten"]


@pytest.mark.parametrize("name", STATS + REDUCTIONS + OTHERS)
def test_scipy_array_api_function(scipy_results, backend, name):
    for check in ("grads", "jit", "vmap"):
        _ok(scipy_results, f"{backend.id}|{name}|{check}")


@pytest.mark.parametrize("name", EAGER_ONLY)
def test_scipy_validating_function_eagerly(scipy_results, backend, name):
    _ok(scipy_results, f"{backend.id}|{name}|grads")


@pytest.mark.parametrize("name", CONSTANTS)
def test_scipy_constants_beside_tracers(scipy_results, backend, name):
    # (were "Multiple namespaces" from array_namespace, or DerivativeDroppedError from a
    # traced value written into a plain array made by xp.zeros/xp.full/xp.empty; under jit
    # too for JIT_TOO)
    if name in NUMPY_ONLY and backend.name != "numpy":
        pytest.skip("SciPy makes this function's weights with NumPy (see NUMPY_ONLY)")
    checks = ("grads",) + (("vmap",) if name in VMAP_TOO else ()) + (
        ("jitted",) if name in JIT_TOO else ())
    for check in checks:
        _ok(scipy_results, f"{backend.id}|{name}|{check}")


if __name__ == "__main__":
    import importlib
    importlib.import_module("tests.conftest")  # (its speed-ups of array-api-strict)
    _run_scipy_checks(sys.argv[1:])


# -- array-api-extra (beyond test_namespace_interop.py's) -------------------------------------

XA = np.array([[0.3, -0.5, 0.9, 0.25], [0.2, 0.1, -0.7, 0.5], [1.0, 0.35, 0.15, -0.1]])


def _positive_or_nan(x):
    return fnp.where(x > 0, x, fnp.nan)


XPX = {
    "deg2rad": lambda x: fnp.sin(xpx.deg2rad(x * 100.0)),
    "rad2deg": lambda x: xpx.rad2deg(x) ** 2,
    "angle": lambda x: xpx.angle(fnp.astype(x, fnp.complex128) * (1 + 2j) + 1.0),
    "expand_dims": lambda x: xpx.expand_dims(x, axis=(0, 2)) * fnp.sin(x)[None, :, None, :],
    "nan_to_num": lambda x: xpx.nan_to_num(fnp.log(x), fill_value=-1.0) * x,
    "nansum": lambda x: xpx.nansum(_positive_or_nan(x) ** 2, axis=1),
    "nanmean": lambda x: xpx.nanmean(_positive_or_nan(x) ** 3, axis=0),
    "partition_kth": lambda x: xpx.partition(x, 1, axis=1)[:, 1],
    "argpartition_kth": lambda x: fnp.take_along_axis(x, xpx.argpartition(x, 2, axis=0),
                                                      axis=0)[2, :],
    "searchsorted": lambda x: x * fnp.astype(xpx.searchsorted(fnp.sort(x[0, :]), x), x.dtype),
    "unravel_index": lambda x: x[xpx.unravel_index(fnp.argmax(fnp.reshape(x, (-1,))),
                                                   x.shape)] * x,
    "at_set": lambda x: xpx.at(x, (slice(1, 2), slice(None))).set(x[0:1, :] ** 2, copy=True),
    "at_add": lambda x: xpx.at(x)[1:, :2].add(x[:2, 2:] * 3.0, copy=True),
    "at_multiply": lambda x: xpx.at(x)[:, 0].multiply(x[:, 1], copy=True),
    "at_max": lambda x: xpx.at(x)[:, 0].max(x[:, 1], copy=True),
    "at_power": lambda x: xpx.at(x)[0, :].power(2.0, copy=True) * x,
}
# data-dependent Python control flow or output shapes inside: eager transforms only
XPX_EAGER = {
    "nanmax": lambda x: xpx.nanmax(_positive_or_nan(x), axis=1),
    "nanmin": lambda x: xpx.nanmin(_positive_or_nan(x) ** 2, axis=0),
    "isin": lambda x: fnp.where(xpx.isin(x, x[0, :]), x ** 2, x),
    "setdiff1d": lambda x: xpx.setdiff1d(fnp.reshape(x, (-1,)), x[0, :]),
    "union1d": lambda x: xpx.union1d(x[0, :], x[1, :] ** 3),
}


@pytest.mark.parametrize("name", sorted(XPX))
def test_array_api_extra_under_every_transform(backend, name):
    f = XPX[name]
    x = backend.asarray(XA)
    out = f(x)
    assert backend.is_own(out)
    check_grads(f, (x,), order=1)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(f)(x)), backend.to_numpy(out),
                               rtol=1e-14, atol=1e-15)
    two = backend.asarray(np.stack([XA, XA[::-1] * 1.5]))
    want = np.stack([backend.to_numpy(f(backend.asarray(XA))),
                     backend.to_numpy(f(backend.asarray(XA[::-1] * 1.5)))])
    np.testing.assert_allclose(backend.to_numpy(ft.vmap(f)(two)), want, rtol=1e-14,
                               atol=1e-15)


@pytest.mark.xfail(reason="array_api_extra.nanmax ends with a Python `if xp.any(mask)` (to put "
                          "NaN back in all-NaN slices), which jit cannot stage",
                   raises=ferrors.ConcretizationError, strict=True)
def test_array_api_extra_nanmax_under_jit():
    ft.jit(XPX_EAGER["nanmax"])(XA)


@pytest.mark.parametrize("name", sorted(XPX_EAGER))
def test_array_api_extra_eagerly(backend, name):
    f = XPX_EAGER[name]
    x = backend.asarray(XA)
    assert backend.is_own(f(x))
    check_grads(f, (x,), order=1)


# -- programs written the Array API way ------------------------------------------------------
# Each finds its namespace from its arguments (``xp = array_namespace(...)``) and uses only the
# standard's functions. The namespace is asked of the arguments being transformed (the
# parameters): with a plain array among them (data not differentiated, ``in_axes=None``),
# array-api-compat refuses the mix (see the xfail below), so the programs that are
# differentiated with respect to everything ask all their arguments. Constants made inside
# (a fixed matrix, a starting value) are made in the argument's library and on its device
# (``xp.asarray(..., device=device(x))``) and combined through ``xp`` functions or with the
# tracer on the left: array-api-strict's operators refuse a tracer on their right
# (array-api-strict issue #188).


def _dev(x):
    return compat.device(x)


def logistic_loss(w, X, s, lam):
    """Mean logistic loss of labels ``s`` (+-1) with an L2 penalty."""
    xp = array_namespace(w)
    z = xp.matmul(X, w)
    return xp.mean(xp.logaddexp(xp.zeros_like(z), -(z * s))) + 0.5 * lam * xp.vecdot(w, w)


LR = np.random.RandomState(81)
LR_X = LR.randn(12, 3)
LR_S = np.sign(LR.randn(12))
LR_W = np.array([0.4, -0.7, 0.2])


def test_logistic_regression_gradient_and_hessian_in_closed_form(backend):
    X, s = backend.asarray(LR_X), backend.asarray(LR_S)
    loss = lambda w: logistic_loss(w, X, s, 0.1)  # noqa: E731
    w = backend.asarray(LR_W)
    z = LR_X @ LR_W
    sig = 1 / (1 + np.exp(z * LR_S))                # sigma(-s z)
    g_want = -(LR_X.T @ (sig * LR_S)) / 12 + 0.1 * LR_W
    p = 1 / (1 + np.exp(-z))
    h_want = LR_X.T @ (LR_X * (p * (1 - p))[:, None]) / 12 + 0.1 * np.eye(3)
    np.testing.assert_allclose(backend.to_numpy(ft.grad(loss)(w)), g_want, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(ft.grad(loss))(w)), g_want, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(ft.hessian(loss)(w)), h_want, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(ft.jacfwd(ft.grad(loss))(w)), h_want,
                               rtol=1e-12)
    ws = np.stack([LR_W, -LR_W, 2 * LR_W])
    per = ft.vmap(ft.grad(loss))(backend.asarray(ws))
    for i in range(3):
        np.testing.assert_allclose(backend.to_numpy(per)[i],
                                   backend.to_numpy(ft.grad(loss)(backend.asarray(ws[i]))),
                                   rtol=1e-13)


@pytest.mark.xfail(reason="array_namespace(w, X) with X a plain array the user passed (data "
                          "not differentiated) and w a tracer: array-api-compat refuses the "
                          "two namespaces (Multiple namespaces); call array_namespace on the "
                          "differentiated arguments, differentiate the data too, or make it "
                          "a constant tracer first (below)",
                   raises=TypeError, strict=True)
def test_array_namespace_of_parameters_and_plain_data():
    def loss(w, X):
        xp = array_namespace(w, X)
        return xp.sum(xp.matmul(X, w) ** 2)
    ft.grad(loss)(LR_W, LR_X)


def test_array_namespace_of_parameters_and_data_made_a_constant(backend):
    # functrans.numpy.asarray of the data inside the transform: a constant tracer, whose
    # namespace is the parameters' (the workaround the xfail above names)
    def loss(w, X):
        X = fnp.asarray(X)
        xp = array_namespace(w, X)
        return xp.sum(xp.matmul(X, w) ** 2)
    w, X = backend.asarray(LR_W), backend.asarray(LR_X)
    g = ft.grad(loss)(w, X)
    assert backend.is_own(g)
    np.testing.assert_allclose(backend.to_numpy(g), 2 * LR_X.T @ (LR_X @ LR_W), rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(ft.hessian(loss)(w, X)), 2 * LR_X.T @ LR_X,
                               rtol=1e-12)


GP_X = np.linspace(-1.0, 1.5, 6)
GP_Y = np.sin(2 * GP_X) + 0.1 * np.cos(7 * GP_X)
GP_THETA = np.array([np.log(0.6), np.log(1.3), np.log(0.2)])  # log lengthscale, scale, noise


def gp_neg_log_likelihood(theta, x, y):
    """-log N(y; 0, K) with K = sf^2 exp(-|xi-xj|^2 / (2 l^2)) + sn^2 I, by Cholesky."""
    xp = array_namespace(theta)
    ell, sf, sn = xp.exp(theta[0]), xp.exp(theta[1]), xp.exp(theta[2])
    d = x[:, None] - x[None, :]
    n = x.shape[0]
    K = sf ** 2 * xp.exp(xp.divide(-(d * d), 2 * ell ** 2)) \
        + sn ** 2 * xp.eye(n, dtype=x.dtype, device=_dev(x))
    L = xp.linalg.cholesky(K)
    alpha = xp.linalg.solve(K, y[:, None])[:, 0]
    logdet = 2 * xp.sum(xp.log(xp.linalg.diagonal(L)))
    return 0.5 * xp.vecdot(y, alpha) + 0.5 * logdet + 0.5 * n * math.log(2 * math.pi)


def _gp_reference(theta):
    import scipy.stats as st
    ell, sf, sn = np.exp(theta)
    d2 = (GP_X[:, None] - GP_X[None, :]) ** 2
    Kf = sf ** 2 * np.exp(-d2 / (2 * ell ** 2))
    K = Kf + sn ** 2 * np.eye(6)
    value = -st.multivariate_normal(np.zeros(6), K).logpdf(GP_Y)
    # d(-log p)/d theta_k = tr((K^-1 - a a^T) dK/dtheta_k) / 2, a = K^-1 y
    Ki = np.linalg.inv(K)
    a = Ki @ GP_Y
    dKs = [Kf * d2 / ell ** 2, 2 * Kf, 2 * sn ** 2 * np.eye(6)]
    grad = np.array([0.5 * np.trace((Ki - np.outer(a, a)) @ dK) for dK in dKs])
    return value, grad


def test_gaussian_process_likelihood_by_cholesky(backend):
    x, y = backend.asarray(GP_X), backend.asarray(GP_Y)
    theta = backend.asarray(GP_THETA)
    value, grad = _gp_reference(GP_THETA)
    f = lambda t, x, y: gp_neg_log_likelihood(t, x, y)  # noqa: E731
    v, g = ft.value_and_grad(f)(theta, x, y)
    np.testing.assert_allclose(float(backend.to_numpy(v)), value, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(g), grad, rtol=1e-10)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(ft.grad(f))(theta, x, y)), grad,
                               rtol=1e-10)
    check_grads(f, (theta, x, y), order=2, modes=("rev",))
    thetas = np.stack([GP_THETA, GP_THETA + 0.1])
    got = ft.vmap(f, in_axes=(0, None, None))(backend.asarray(thetas), x, y)
    np.testing.assert_allclose(backend.to_numpy(got),
                               [_gp_reference(t)[0] for t in thetas], rtol=1e-12)


AT = np.random.RandomState(82)
AT_Q, AT_K, AT_V = AT.randn(4, 3), AT.randn(5, 3), AT.randn(5, 2)


def attention(q, k, v):
    xp = array_namespace(q, k, v)
    s = xp.matmul(q, xp.matrix_transpose(k)) / math.sqrt(q.shape[-1])
    e = xp.exp(s - xp.max(s, axis=-1, keepdims=True))
    return xp.matmul(e / xp.sum(e, axis=-1, keepdims=True), v)


def _attention_np(q, k, v):
    import scipy.special as ss
    return ss.softmax(q @ k.T / np.sqrt(q.shape[-1]), axis=-1) @ v


def test_softmax_attention_jacobians_heads_and_jit(backend):
    q, k, v = (backend.asarray(a) for a in (AT_Q, AT_K, AT_V))
    out = attention(q, k, v)
    assert backend.is_own(out)
    np.testing.assert_allclose(backend.to_numpy(out), _attention_np(AT_Q, AT_K, AT_V),
                               rtol=1e-12)
    check_grads(attention, (q, k, v), order=1)
    # d out / d v is the attention matrix, row by row (jacfwd through the program, with
    # respect to all three: array_namespace(q, k, v) needs them all traced)
    jv = backend.to_numpy(ft.jacfwd(attention, argnums=(0, 1, 2))(q, k, v)[2])  # (4,2,5,2)
    w = _attention_np(AT_Q, AT_K, np.eye(5))
    np.testing.assert_allclose(jv[:, 0, :, 0], w, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(jv[:, 0, :, 1], 0.0, atol=1e-15)
    heads = [np.random.RandomState(83).randn(3, 4, 3)]
    got = ft.jit(ft.vmap(attention))(backend.asarray(heads[0]),
                                     *(backend.asarray(np.stack([a] * 3)) for a in (AT_K, AT_V)))
    want = [_attention_np(heads[0][h], AT_K, AT_V) for h in range(3)]
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-12)


KF_Y = np.array([0.3, 0.8, 1.6, 2.1, 3.3, 3.9])
KF_DT = 0.5


def kalman_neg_log_likelihood(log_qr, y):
    """-log p(y) of a constant-velocity model observed in position, by the Kalman filter."""
    xp = array_namespace(log_qr)
    kw = dict(dtype=y.dtype, device=_dev(y))  # (torch's default dtype is float32)
    dt = KF_DT
    q, r = xp.exp(log_qr[0]), xp.exp(log_qr[1])
    F = xp.asarray([[1.0, dt], [0.0, 1.0]], **kw)
    H = xp.asarray([[1.0, 0.0]], **kw)
    Q = q * xp.asarray([[dt ** 3 / 3, dt ** 2 / 2], [dt ** 2 / 2, dt]], **kw)
    m = xp.zeros((2, 1), **kw)
    P = xp.eye(2, **kw)
    nll = 0.0
    for t in range(y.shape[0]):
        m = xp.matmul(F, m)
        P = xp.add(xp.matmul(xp.matmul(F, P), xp.matrix_transpose(F)), Q)
        S = xp.add(xp.matmul(xp.matmul(H, P), xp.matrix_transpose(H)), r)
        v = xp.subtract(y[t], xp.matmul(H, m))
        K = xp.matrix_transpose(xp.linalg.solve(S, xp.matmul(H, P)))
        nll = nll + 0.5 * (math.log(2 * math.pi) + xp.linalg.slogdet(S)[1]
                           + xp.sum(xp.multiply(v, xp.linalg.solve(S, v))))
        m = xp.add(m, xp.matmul(K, v))
        P = xp.subtract(P, xp.matmul(xp.matmul(K, S), xp.matrix_transpose(K)))
    return nll


def _kalman_reference(log_qr):
    """The same likelihood as one Gaussian density: Cov(x_t, x_s) = F^(t-s) P_s."""
    import scipy.stats as st
    q, r = np.exp(log_qr)
    dt = KF_DT
    F = np.array([[1.0, dt], [0.0, 1.0]])
    Q = q * np.array([[dt ** 3 / 3, dt ** 2 / 2], [dt ** 2 / 2, dt]])
    T = len(KF_Y)
    Ps, P = [], np.eye(2)
    for _ in range(T):
        P = F @ P @ F.T + Q
        Ps.append(P)
    cov = np.empty((T, T))
    for t in range(T):
        for s in range(t + 1):
            cov[t, s] = cov[s, t] = (np.linalg.matrix_power(F, t - s) @ Ps[s])[0, 0]
    return -st.multivariate_normal(np.zeros(T), cov + r * np.eye(T)).logpdf(KF_Y)


def test_kalman_filter_likelihood_against_the_joint_gaussian(backend):
    theta0 = np.array([np.log(0.5), np.log(0.1)])
    theta, y = backend.asarray(theta0), backend.asarray(KF_Y)
    f = kalman_neg_log_likelihood
    np.testing.assert_allclose(float(backend.to_numpy(f(theta, y))),
                               _kalman_reference(theta0), rtol=1e-12)
    g = backend.to_numpy(ft.grad(f)(theta, y))
    h = 1e-6
    fd = [(_kalman_reference(theta0 + h * e) - _kalman_reference(theta0 - h * e)) / (2 * h)
          for e in np.eye(2)]
    np.testing.assert_allclose(g, fd, rtol=1e-7)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(ft.grad(f))(theta, y)), g, rtol=1e-12)
    H = backend.to_numpy(ft.hessian(f)(theta, y))
    np.testing.assert_allclose(H, H.T, rtol=1e-12)
    fd2 = [(backend.to_numpy(ft.grad(f)(backend.asarray(theta0 + h * e), y))
            - backend.to_numpy(ft.grad(f)(backend.asarray(theta0 - h * e), y))) / (2 * h)
           for e in np.eye(2)]
    np.testing.assert_allclose(H, np.stack(fd2), rtol=1e-6, atol=1e-8)


SK_X = np.array([0.0, 0.4, 1.1, 1.5])
SK_Y = np.array([0.2, 0.9, 1.7])


def sinkhorn_cost(x, y, eps=0.1, iters=40):
    """Entropic optimal transport between uniform weights on points x and y, log domain."""
    xp = array_namespace(x, y)
    C = (x[:, None] - y[None, :]) ** 2
    n, m = C.shape
    log_a, log_b = -math.log(n), -math.log(m)

    def lse(z, axis):
        mz = xp.max(z, axis=axis, keepdims=True)
        return xp.squeeze(mz, axis=axis) + xp.log(xp.sum(xp.exp(z - mz), axis=axis))
    f = xp.zeros((n,), dtype=x.dtype, device=_dev(x))
    g = xp.zeros((m,), dtype=x.dtype, device=_dev(x))
    for _ in range(iters):
        f = -eps * lse(xp.subtract(g[None, :], C) / eps + log_b, axis=1)
        g = -eps * lse(xp.subtract(f[:, None], C) / eps + log_a, axis=0)
    P = xp.exp((f[:, None] + g[None, :] - C) / eps + log_a + log_b)
    return xp.sum(P * C)


def _sinkhorn_np(x, y, eps=0.1, iters=40):
    C = (x[:, None] - y[None, :]) ** 2
    K = np.exp(-C / eps)
    a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
    v = np.ones(len(y))
    for _ in range(iters):                       # the scaling form, u = a / Kv, v = b / K'u
        u = a / (K @ v)
        v = b / (K.T @ u)
    return float(np.sum(u[:, None] * K * v[None, :] * C))


def test_sinkhorn_transport_cost(backend):
    x, y = backend.asarray(SK_X), backend.asarray(SK_Y)
    np.testing.assert_allclose(float(backend.to_numpy(sinkhorn_cost(x, y))),
                               _sinkhorn_np(SK_X, SK_Y), rtol=1e-8)
    check_grads(sinkhorn_cost, (x, y), order=1, modes=("rev",))
    both = ft.grad(sinkhorn_cost, argnums=(0, 1))
    gx, gy = (backend.to_numpy(g) for g in both(x, y))
    for a, b in zip(ft.jit(both)(x, y), (gx, gy)):
        np.testing.assert_allclose(backend.to_numpy(a), b, rtol=1e-12)
    # moving every point of both sets by the same amount changes nothing
    np.testing.assert_allclose(gx.sum() + gy.sum(), 0.0, atol=1e-10)
    xs = np.stack([SK_X, SK_X * 1.2])
    got = ft.vmap(sinkhorn_cost)(backend.asarray(xs), backend.asarray(np.stack([SK_Y] * 2)))
    np.testing.assert_allclose(backend.to_numpy(got), [_sinkhorn_np(r, SK_Y) for r in xs],
                               rtol=1e-8)
