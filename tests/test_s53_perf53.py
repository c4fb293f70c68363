"""Session 53 (perf53): special functions on large NumPy arrays; what this pins.

- xlogy, xlog1py, entr, rel_entr, kl_div, huber, pseudo_huber on plain NumPy operands
  (functrans.numpy's AtArray too): the traced forms' values (their operations on each
  element, the same bits but for a nan's sign and payload) in a few in-place passes, one
  logarithm over all and the other forms on the elements they serve; the traced forms, so
  every derivative, unchanged. 1e5 points (x uniform in (-0.2, 1), y the reverse), ours
  against SciPy's time: xlogy 4.5 -> 0.6, xlog1py 2.8 -> 0.4, entr 3.5 -> 0.8, rel_entr
  3.0 -> 0.75, kl_div 6.8 -> 1.6 (all positive: 8.5 -> 1.3), huber 4.2 -> 0.9-1.9,
  pseudo_huber 2.1 -> 0.8-1.0. No NumPy RuntimeWarning from them where SciPy is silent
  (log(0), log(-1), x / y past overflow, inf / inf: errstate, the traced forms too).
- NumPy's log and log1p give a reversed view's elements up to an ulp away from a
  contiguous array's (the C library's loop, not the SIMD one): the plain forms take their
  logarithms of arrays in memory order, as the traced forms' (fresh) operands are.
- special_generic.hyp2f1 on NumPy with parameters of one value (numbers, broadcast): Gamma
  ratios of one element, the series' ratios of 1-element arrays, its z = 0 elements summed
  once for all (the same bits, the same count of terms): 1e5 points 188 -> 37 ms (8x -> 1.6x
  SciPy's).
- j0, j1, y0, y1 near their zeros: past 200 candidates fixed_numpy takes the caller's bound
  y^2 x < _BESSEL01_CANDIDATE_FAR for the phase windows (the same elements as McMahon's
  look; the same bits as one element at a time).

Left: j0/j1 on 1e5 points in (0, 1000) stay ~1.2x SciPy's (the candidates' five passes,
~220 us, a third of it NumPy's nonzero on a random mask; the phase form's ~100 NumPy calls
on the ~1300 elements near zeros, ~170 us); kl_div on mixed-sign data 1.6x (the subsets'
gathers); the backward pass of grad(xlogy, 1)(1.0, 0.0) (the transpose, run outside these
functions) still warns (divide by zero), as every reverse-mode derivative that meets an inf
on NumPy.
"""

import warnings

import numpy as np
import pytest
import scipy.special as ss

import functrans as ft
import functrans.scipy.special as fs

try:
    import ml_dtypes
    _BF16 = [ml_dtypes.bfloat16]
except ImportError:   # pragma: no cover
    _BF16 = []

_SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-300, 5e-324, -5e-324, 1e300, 1.7e308,
                     np.inf, -np.inf, np.nan, 0.999, 1.001, 1e-17, -0.9999999, 3.0, 1e200])
_GRID = [a.ravel() for a in np.meshgrid(_SPECIAL, _SPECIAL)]

BINARY = ["xlogy", "xlog1py", "rel_entr", "kl_div"]
LOSSES = ["huber", "pseudo_huber"]   # (delta, r)
DTYPES = [np.float64, np.float32, np.float16] + _BF16


def _same(a, b):
    """Equal dtype, shape and bits, a nan matching any nan."""
    a, b = np.asarray(a), np.asarray(b)
    assert (a.dtype, a.shape) == (b.dtype, b.shape)
    fa, fb = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    same_bits = (np.ascontiguousarray(a).view(np.uint8).reshape(a.size, -1)
                 == np.ascontiguousarray(b).view(np.uint8).reshape(b.size, -1)).all(axis=1)
    assert (same_bits | (np.isnan(fa) & np.isnan(fb))).all(), (fa[~same_bits], fb[~same_bits])


def _traced(f, *args):
    """f's value by its traced form (the primal of a jvp)."""
    args = tuple(np.asarray(a) for a in args)
    return ft.jvp(f, args, tuple(np.ones_like(a) for a in args))[0]


@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", BINARY + LOSSES + ["entr"])
def test_plain_forms_give_the_traced_values(name, dt):
    f = getattr(fs, name)
    rng = np.random.default_rng(0)
    x, y = _GRID
    r = rng.uniform(-0.3, 3.0, (2, 2000))
    r[:, ::17] = 0.0
    cases = [(x, y), (y, x), (r[0], r[1]), (r[0][::-1], r[1][::2].repeat(2))]
    if name in LOSSES:   # (a delta for all: one value broadcast)
        cases += [(np.full_like(y, d), y) for d in (0.0, 1.0, -1.0, np.inf, np.nan, 1e-300)]
    for a, b in cases:
        with np.errstate(over="ignore"):   # (1e300 in float16: inf)
            a, b = a.astype(dt), b.astype(dt)
        args = (a,) if name == "entr" else (a, b)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = f(*args)
        _same(out, _traced(f, *args))


@pytest.mark.parametrize("name", BINARY)
def test_plain_forms_match_scipy_on_the_domain_edges(name):
    # (away from x / y's overflow and underflow, where ours are the finite values and
    # SciPy's inf or 0: rel_entr(1e-300, 1e300) is -1.38e-297, SciPy's -inf)
    f, g = getattr(fs, name), getattr(ss, name)
    tame = _SPECIAL[(np.abs(_SPECIAL) < 1e10) & (np.abs(_SPECIAL) > 1e-10)
                    | (_SPECIAL == 0.0) | ~np.isfinite(_SPECIAL)]
    x, y = (a.ravel() for a in np.meshgrid(tame, tame))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = f(x, y)
    ref = g(x, y)
    assert (np.isnan(out) == np.isnan(ref)).all()
    inf = np.isinf(ref)
    assert (out[inf] == ref[inf]).all()
    fin = np.isfinite(ref)
    if name == "kl_div":   # (x log(x / y) - x + y cancels near x = y: SciPy's and ours
        #                    within an ulp of x + y; SciPy's -0.0 at x = 0, y = -0.0)
        scale = np.abs(x[fin]) + np.abs(y[fin])
        assert (np.abs(out[fin] - ref[fin]) <= 2.3e-16 * scale).all()
        return
    np.testing.assert_allclose(out[fin], ref[fin], rtol=4e-16, atol=0)
    assert (out[ref == 0.0] == 0.0).all() and not np.signbit(out[ref == 0.0]).any()


@pytest.mark.parametrize("name", BINARY + LOSSES)
def test_plain_forms_shapes_scalars_and_inputs(name):
    f = getattr(fs, name)
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.0, 2.0, (4, 1)), rng.uniform(-0.5, 2.0, (1, 5))
    a0, b0 = a.copy(), b.copy()
    out = f(a, b)
    assert out.shape == (4, 5) and out.dtype == np.float64
    assert (a == a0).all() and (b == b0).all()   # (operands untouched)
    _same(out, _traced(f, *np.broadcast_arrays(a, b)))
    assert not np.shares_memory(out, a) and not np.shares_memory(out, b)
    _same(f(np.asfortranarray(np.tile(a, 5)), np.asfortranarray(np.tile(b, (4, 1)))), out)
    # empty, 0-d: SciPy's shapes; a 0-d result as the traced form's (xlogy: NumPy scalars)
    assert f(np.zeros(0), np.zeros(0)).shape == (0,)
    assert f(np.zeros((0, 3)), np.zeros(3)).shape == (0, 3)
    s = f(2.0, 0.5)
    assert np.shape(s) == () and np.asarray(s).dtype == np.float64
    assert type(s) is (np.float64 if name.startswith("xlog") else np.ndarray)
    s32 = f(np.float32(2.0), np.float32(0.5))
    assert np.asarray(s32).dtype == np.float32
    _same(s32, _traced(f, np.float32(2.0), np.float32(0.5)))
    assert f(np.float32(2.0), 0.5).dtype == (np.float64 if name.startswith("xlog")
                                              else np.float32)
    _same(f(1.0, b[0]), _traced(f, np.ones(5), b[0]))   # (a Python number: broadcast)
    with pytest.raises(TypeError, match="complex"):
        f(np.array([1.0 + 1j]), np.array([2.0]))


@pytest.mark.parametrize("name, args", [
    ("xlogy", (1.0, 0.0)), ("xlogy", (np.array([1.0, 2.0]), 0.0)), ("xlogy", (1.0, -1.0)),
    ("xlog1py", (1.0, -1.0)), ("xlog1py", (np.array([1.0, 2.0]), -1.0)),
    ("xlog1py", (1.0, -2.0)), ("entr", (np.array([0.0, -1.0, np.inf]),)),
    ("rel_entr", (np.array([1e300, 1e-300, 1.0]), np.array([1e-300, 1e300, 0.0]))),
    ("kl_div", (np.array([1e300, 1e-300, 1.0]), np.array([1e-300, 1e300, 0.0]))),
    ("pseudo_huber", (1.0, np.array([np.inf, 1.0, -np.inf]))),
    ("pseudo_huber", (np.array([0.0, np.inf, -1.0]), np.inf)), ("huber", (-1.0, np.inf)),
])
def test_no_numpy_warnings_where_scipy_is_silent(name, args):
    # (base: RuntimeWarning divide by zero in log, invalid value in log, overflow in divide)
    f = getattr(fs, name)
    ref = getattr(ss, name)(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = f(*args)
        traced = _traced(f, *args)
    if name in ("rel_entr", "kl_div"):   # (SciPy's inf past x / y's overflow, ours the value)
        ref = np.where(np.isinf(ref) & np.isfinite(traced), traced, ref)
    np.testing.assert_allclose(out, ref, rtol=2.3e-16, atol=0)
    _same(out, traced)


# -- j0, j1, y0, y1 near their zeros: the phase windows' candidates by the caller's bound ------

@pytest.mark.parametrize("name", ["j0", "j1", "y0", "y1"])
def test_bessel_near_zeros_many_candidates_give_the_one_at_a_time_bits(name):
    # (more than _BESSEL01_NARROW candidates: fixed_numpy takes the caller's bound y^2 x <
    # _BESSEL01_CANDIDATE_FAR beyond the table in the place of McMahon's phase; one element
    # at a time: Python floats, McMahon's look)
    from functrans.backends import bessel_zeros as bz
    from functrans.primitives import special as ps
    f = getattr(fs, name)
    off = {"j0": -0.25, "j1": 0.25, "y0": -0.75, "y1": -0.25}[name]
    k = np.arange(1, 300)
    zeros = (k + off) * np.pi - bz.MCMAHON[name] / ((k + off) * np.pi)   # (McMahon's)
    rng = np.random.default_rng(2)
    x = np.concatenate([zeros + d for d in (0.0, 3e-8, -0.004, 0.0199, -0.0203, 0.024)]
                       + [rng.uniform(1.0, 950.0, 400)])
    if name == "j1":
        x = np.concatenate([x, -x[::3]])
    out = f(x)
    assert (np.abs(x) > 2.0 * ps._BESSEL01_TABLE_END).sum() > ps._BESSEL01_NARROW
    one = np.array([f(x[i:i + 1])[0] for i in range(len(x))])
    _same(out, one)
    ref = getattr(ss, name)(x)
    assert np.allclose(out, ref, rtol=0, atol=1e-13)


# -- hyp2f1 (special_generic): parameters of one value -----------------------------------------

@pytest.mark.parametrize("abc", [(0.5, 1.5, 2.5), (1.0, 2.0, 3.0), (-3.0, 1.5, 2.5),
                                 (0.3, -0.7, -1.5), (0.5, 1.5, 2.0), (2.0, 3.0, 5.0)])
def test_hyp2f1_parameters_of_one_value_give_the_general_paths_bits(abc, monkeypatch):
    # (_one_value: Gamma ratios of one element, the series' ratios of 1-element arrays and
    # the elements with z = 0 summed once for all: 188 -> 37 ms on 1e5 points)
    from functrans.backends import special_generic as sg
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.uniform(-1.0, 0.99, 1500), [0.0, -0.0, 0.5, -0.5, 1.0, -30.0,
                                                        np.nan, 0.25]])
    fast = fs.hyp2f1(*abc, x)
    fast32 = fs.hyp2f1(*abc, x.astype(np.float32))
    monkeypatch.setattr(sg, "_one_value", lambda xs: None)
    _same(fast, fs.hyp2f1(*abc, x))
    _same(fast32, fs.hyp2f1(*abc, x.astype(np.float32)))
    ok = np.isfinite(fast) & (np.abs(x) <= 1.0)
    np.testing.assert_allclose(fast[ok], ss.hyp2f1(*abc, x[ok]), rtol=1e-13, atol=1e-300)
