"""Session 49 (helper special49): special functions; what this helper's changes pin.

- J0, J1, Y0, Y1 near their zeros: within 0.05 of one of the first 40 zeros of each, Taylor's
  polynomial about the tabulated zero; within 0.02 (of the phase) of another below 1e8, the
  phase-amplitude form of Hankel's expansion with the phase reduced in parts
  (functrans/backends/bessel_zeros.py). Every library's value was about 1e-16 absolute off
  (SciPy's j0(52.616) 2733 ulp, at the float64 nearest a zero every digit wrong): now 2 ulp
  (numpy, array-api-strict on its default device and on device1, the read-free path, torch);
  their derivatives (-j1, ..., through the same primitives) likewise.
"""


import mpmath as mp
import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp

mp.mp.dps = 40

_BESSEL = {"j0": lambda x: mp.besselj(0, x), "j1": lambda x: mp.besselj(1, x),
           "y0": lambda x: mp.bessely(0, x), "y1": lambda x: mp.bessely(1, x)}


def _rel(got, ref):
    return [abs(mp.mpf(float(g)) - r) / abs(r) for g, r in zip(got, ref)]


def _backends():
    out = [("numpy", lambda a: a, np.asarray)]
    try:
        import array_api_strict as xs
    except ImportError:
        return out
    cpu, dev1 = xs.Device(), xs.Device("device1")
    out.append(("strict", xs.asarray, np.asarray))
    out.append(("strict@device1", lambda a: xs.asarray(a, device=dev1),
                lambda a: np.asarray(xs.asarray(a, device=cpu))))
    try:
        import torch
        out.append(("torch", torch.tensor, lambda a: a.numpy()))
    except ImportError:
        pass
    return out


# (the float64 nearest the 1st and the 40th zero, 1e-9 relative off the 13th, 1e-7 off the
# 41st and 1e-6 off the 3000th (the phase form), mpmath's besseljzero / besselyzero)
_NEAR_ZEROS = {
    "j0": [2.404825557695773, 40.05842576462824 * (1 + 1e-9), 124.87530506876725,
           128.02087700600833 * (1 + 1e-7), 9423.99257587 * (1 + 1e-6)],
    "j1": [3.8317059702075125, 41.61709421281445 * (1 + 1e-9), 126.40260767809566,
           129.587803245104 * (1 + 1e-7), 9425.563319147357 * (1 + 1e-6)],
    "y0": [0.8935769662791675, 38.48775665308154 * (1 + 1e-9), 123.30349467022447,
           126.45009280708746 * (1 + 1e-7), 9422.421779545415 * (1 + 1e-6)],
    "y1": [2.197141326031017, 40.045944640266875 * (1 + 1e-9), 124.87276932466034,
           128.01697141286658 * (1 + 1e-7), 9423.992522813931 * (1 + 1e-6)],
}


@pytest.mark.parametrize("name", sorted(_BESSEL))
def test_bessel01_near_zeros(name):
    x = np.array(_NEAR_ZEROS[name])
    if name[0] == "j":
        x = np.concatenate([x, -x[:2]])
    ref = [_BESSEL[name](mp.mpf(v)) for v in x]
    for label, make, back in _backends():
        got = back(getattr(fsp, name)(make(x)))
        assert max(_rel(got, ref)) < 5e-16, (label, got)
        if label != "numpy":
            continue
        # one element, a 0-d array, and under jit: the same
        assert float(getattr(fsp, name)(x[0])) == got[0]
        assert np.array_equal(np.asarray(ft.jit(getattr(fsp, name))(x)), got)


def test_bessel01_derivatives_near_zeros():
    # j0' = -j1 at J1's zeros, y0' = -y1 at Y1's, j1' = j0 - j1/x at J0's first zero
    # (1e-10 relative off each), checked against mpmath's
    x1 = np.array([3.8317059702075125, 126.40260767809566]) * (1 + 1e-10)
    g = np.asarray(ft.vmap(ft.grad(fsp.j0))(x1))
    assert max(_rel(g, [-mp.besselj(1, mp.mpf(v)) for v in x1])) < 5e-16
    y1 = np.array([2.197141326031017, 128.01697141286658]) * (1 + 1e-10)
    g = np.asarray(ft.vmap(ft.grad(fsp.y0))(y1))
    assert max(_rel(g, [-mp.bessely(1, mp.mpf(v)) for v in y1])) < 5e-16
    h = float(ft.grad(ft.grad(fsp.j1))(3.8317059702075125 * (1 + 1e-10)))   # (j1'' = -j1 ... )
    xm = mp.mpf(3.8317059702075125 * (1 + 1e-10))
    ref = mp.diff(lambda t: mp.besselj(1, t), xm, 2)
    assert abs(h - ref) / abs(ref) < 1e-14


# -- SciPy's dtypes: the loop NumPy picks (a Python number weak) ------------------------------

def test_scipy_loop_dtypes():
    f32, half = np.float32(2.0), np.float32(0.5)
    # 'fff->f' first: a Python number is weak
    assert fsp.betainc(f32, np.float32(3.0), 0.5).dtype == np.float32
    assert fsp.betaincinv(2, f32, half).dtype == np.float32
    # 'dddd->d' / 'ddd->d' first: a Python number picks it
    assert fsp.hyp2f1(1.0, 2.0, 3.0, half).dtype == np.float64
    assert fsp.hyp2f1(f32, f32, np.float32(3.0), half).dtype == np.float32
    assert fsp.radian(f32, 1, half).dtype == np.float64
    # 'lld->d' / 'ld->d' first: Python ints take it, Python floats the 'fff' loop
    assert fsp.nbdtr(1, 2, half).dtype == np.float64
    assert fsp.nbdtri(1.0, 2.0, half).dtype == np.float32
    assert fsp.pdtri(1, half).dtype == np.float64
    assert fsp.pdtri(1.0, half).dtype == np.float32


def test_expn_orders():
    # a Python float order truncated towards 0, as SciPy (JAX: nan); float32 with a float32
    # x ('ff->f'), float64 with a Python int order ('ld->d')
    assert float(fsp.expn(0.7, 1.0)) == float(fsp.expn(0, 1.0))
    assert float(fsp.expn(-0.5, 1.0)) == float(fsp.expn(0, 1.0))
    assert fsp.expn(2.5, np.float32(1.0)).dtype == np.float32
    assert fsp.expn(2, np.float32(1.0)).dtype == np.float64
    # an order past a C int: SciPy's wrapped (2**40 to 0: e^-1); the continued fraction
    # (mpmath: E_(2**40)(1) = 3.34584402636612e-13)
    v = float(fsp.expn(2 ** 40, 1.0))
    assert abs(v - 3.34584402636612e-13) < 1e-13 * 3.34584402636612e-13
    # a large order on the generic path: the continued fraction, not 5000 series terms
    xs = pytest.importorskip("array_api_strict")
    w = float(fsp.expn(5000, xs.asarray(0.5)))   # (mpmath: 1.21318261341567584e-4)
    assert abs(w - 1.2131826134156758e-4) < 1e-14 * 1.2131826134156758e-4


# -- beta / betaln beside a negative argument with a subnormal one ----------------------------

def test_betaln_negative_beside_subnormal():
    # |B(a, b)| ~ 1/|b| overflows for a subnormal b: betaln = log|B| is finite (mpmath:
    # betaln(-3.4455, 5e-324) = 744.440071921381262), beta +-inf (SciPy: inf, inf); both
    # were nan (the slope carriers' inf - inf; fuzz49's z_special49)
    assert float(fsp.betaln(-3.4455, 5e-324)) == pytest.approx(744.4400719213813, rel=1e-15)
    assert float(fsp.betaln(5e-324, -3.4455)) == pytest.approx(744.4400719213813, rel=1e-15)
    assert float(fsp.betaln(-3.4455, 1e-310)) == pytest.approx(713.8013788281542, rel=1e-15)
    assert float(fsp.beta(-3.4455, 5e-324)) == np.inf
    assert float(fsp.beta(-2.5, -1e-310)) == -np.inf
