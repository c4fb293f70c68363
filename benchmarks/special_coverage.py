"""Coverage of the generic hyp1f1, hyp2f1 and jv (functrans.backends.special_generic, used on
torch and array-api-strict): ``python -m benchmarks.special_coverage [--n N] [--backend B]``.

Over fixed random samples of their parameters (seeded; ranges below) it prints, per sample,
the share of points where the exact value (mpmath, 40 digits, at the float64 inputs) is a
finite float64 but the generic version returns nan, and the largest relative error of the
finite results (error / max(|exact|, 1e-300)) and of those where |exact| >= 1e-280.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _samples(n):
    rng = np.random.default_rng(2026)
    u = rng.uniform
    out = {}
    # hyp1f1(a, b, x)
    out["hyp1f1 a,b~U(-10,10) x~U(-30,30)"] = ("hyp1f1", u(-10, 10, n), u(-10, 10, n),
                                             u(-30, 30, n))
    out["hyp1f1 a~U(-10,10) b~U(0,10) x~U(-100,100)"] = ("hyp1f1", u(-10, 10, n),
                                                        u(0, 10, n), u(-100, 100, n))
    out["hyp1f1 a,b~U(-50,50) x~U(-50,50)"] = ("hyp1f1", u(-50, 50, n), u(-50, 50, n),
                                             u(-50, 50, n))
    # hyp2f1(a, b, c, x)
    out["hyp2f1 a,b,c~U(-10,10) x~U(-1,1)"] = ("hyp2f1", u(-10, 10, n), u(-10, 10, n),
                                             u(-10, 10, n), u(-1, 1, n))
    out["hyp2f1 a,b,c~U(-10,10) x~-exp(U(0,8))"] = ("hyp2f1", u(-10, 10, n), u(-10, 10, n),
                                                  u(-10, 10, n), -np.exp(u(0, 8, n)))
    out["hyp2f1 a,b~U(-30,30) c~U(-30,30) x~U(-3,1)"] = ("hyp2f1", u(-30, 30, n),
                                                       u(-30, 30, n), u(-30, 30, n),
                                                       u(-3, 1, n))
    # jv(v, z)
    out["jv v~U(-50,50) z~U(0,100)"] = ("jv", u(-50, 50, n), u(0, 100, n))
    out["jv v~U(-500,500) z~exp(U(-5,7))"] = ("jv", u(-500, 500, n), np.exp(u(-5, 7, n)))
    # (added in session 16, last so that the samples above keep their points)
    out["hyp1f1 a~U(-200,0) b~U(0,50) x~U(-60,60)"] = ("hyp1f1", u(-200, 0, n), u(0, 50, n),
                                                      u(-60, 60, n))
    return out


def _exact(name, args):
    import mpmath as mp
    mp.mp.dps = 40
    fn = {"hyp1f1": mp.hyp1f1, "hyp2f1": mp.hyp2f1, "jv": mp.besselj}[name]
    out = np.empty(len(args[0]))
    for i, p in enumerate(zip(*args)):
        try:
            v = fn(*(mp.mpf(float(t)) for t in p))
            out[i] = float(v.real) if abs(v.imag if hasattr(v, "imag") else 0) == 0 else np.nan
        except (ValueError, ZeroDivisionError, mp.libmp.NoConvergence):
            out[i] = np.nan
    return out


def _condition(name, args, idx):
    """max_p |p df/dp| / |f| (mpmath, differences of relative step 1e-15) at the points idx:
    the relative change of the value per relative change of an input."""
    import mpmath as mp
    mp.mp.dps = 40
    fn = {"hyp1f1": mp.hyp1f1, "hyp2f1": mp.hyp2f1, "jv": mp.besselj}[name]
    out = np.full(len(args[0]), np.nan)
    for i in idx:
        p = [mp.mpf(float(v[i])) for v in args]
        f = fn(*p)
        worst = 0
        for j in range(len(p)):
            if p[j] == 0:
                continue
            h = p[j] * mp.mpf("1e-15")
            q1, q2 = list(p), list(p)
            q1[j] += h
            q2[j] -= h
            worst = max(worst, abs((fn(*q1) - fn(*q2)) / 2 / f * 1e15))
        out[i] = float(mp.re(worst))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.special_coverage",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1000, help="points per sample")
    p.add_argument("--backend", default="torch")
    p.add_argument("--only", default="", help="run the samples whose name contains this")
    p.add_argument("--show", type=int, default=0, help="print this many failures per sample")
    args = p.parse_args(argv)
    from functrans.backends import get_backend
    from functrans.scipy import special as fsp
    be = get_backend(args.backend)
    for label, (name, *params) in _samples(args.n).items():
        if args.only not in label:
            continue
        exact = _exact(name, params)
        t0 = time.perf_counter()
        got = be.to_numpy(getattr(fsp, name)(*(be.asarray(v) for v in params)))
        dt = time.perf_counter() - t0
        finite = np.isfinite(exact) & (np.abs(exact) < 1e300)
        nan = finite & np.isnan(got)
        fin = finite & np.isfinite(got)
        err = np.abs(got - exact) / np.maximum(np.abs(exact), 1e-300)
        big = fin & (np.abs(exact) >= 1e-280)
        worst = err[fin].max() if fin.any() else 0.0
        worst_big = err[big].max() if big.any() else 0.0
        bad = fin & (err > 1e-10)
        kappa = _condition(name, params, np.flatnonzero(nan | bad))
        well = (kappa <= 1e3) & (nan | bad)
        print(f"{label:48s} nan {nan.sum() / finite.sum():7.2%}  "
              f"max rel err {worst:8.1e} ({worst_big:8.1e} |f|>=1e-280)  "
              f">1e-10: {bad.sum():3d}  inf/other {(finite & np.isinf(got)).sum()}  "
              f"{dt:5.1f} s\n{'':48s} nan where well conditioned (kappa <= 1e3): "
              f"{(well & nan).sum() / finite.sum():6.2%}, wrong there: {(well & bad).sum()}")
        for i in list(np.flatnonzero(nan))[:args.show] + list(np.flatnonzero(bad))[:args.show]:
            print("   ", name, tuple(float(v[i]) for v in params), "exact", exact[i],
                  "got", got[i], "kappa %.1e" % kappa[i])


if __name__ == "__main__":
    main()
