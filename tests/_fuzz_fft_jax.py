"""fft40's fuzzer (fft41: repeated axes, the Hermitian n-d transforms): seeded random calls
of functrans.numpy.fft, functrans.lax.fft and functrans.scipy.fft's dct/dst against NumPy 2.x / SciPy (values, dtypes, shapes, errors),
jax.numpy.fft / jax.lax.fft / jax.scipy.fft (x64) and central differences. A tool, not a
test (JAX is not installed in CI; tests/test_s40_fft40.py keeps a fast selection):

    PYTHONPATH=. python -m tests._fuzz_fft_jax 0 300            # seeds [0, 300)
    PYTHONPATH=. python -m tests._fuzz_fft_jax 0 300 c2r dct    # only those families

Families: c2c (fft, ifft), c2cn (fftn, ifftn, fft2, ifft2), r2c (rfft, ihfft), r2cn (rfftn,
rfft2), c2r (irfft, hfft), c2rn (irfftn, irfft2), herm (scipy.fft's hfftn, hfft2, ihfftn,
ihfft2 against SciPy's: fft41), shift (fftshift, ifftshift), freq (fftfreq,
rfftfreq), sfft (the Fourier transforms of functrans.scipy.fft against scipy.fft's),
lax (lax.fft, every FftType), dct (scipy.fft dct/idct/dctn/idctn/dst/idst/dstn/
idstn, types 1-4), sxtra (session 43: scipy.fft's fftfreq, rfftfreq, fftshift, ifftshift,
next_fast_len, and the transforms with workers / overwrite_x). Shapes hold 0-size, length-1, odd and even axes; n/s crop and pad; axes
are negative, repeated (NumPy transforms such an axis once per repetition; SciPy and JAX
refuse) or out of range; norm is None/'backward'/'ortho'/'forward'/bad; dtypes
float64/32/16, complex128/64, int64/32, uint8, bool.

For each case: NumPy's (SciPy's) value or error against functrans's eagerly on NumPy, and
the value on array_api_strict and torch; jax's value and dtype (a dtype that differs from
NumPy's is counted, not failed: functrans follows NumPy). For float64/complex128 inputs the
case is differentiated as a real function of the real (and imaginary) parts of its input,
with a nonlinear map before and after the transform: jvp against central differences and
jax.jvp, vjp by the dot-product identity and against jax.vjp, grad against jax.grad, jacfwd
against jacrev (and jax.jacfwd), hessian against jax.hessian (small inputs), vmap over a
random axis against a loop, jit against eager (values and grad). For complex input the
complex convention is checked directly too: ft.vjp with a complex cotangent = jax.vjp's
(Re <u, J v> = Re <J^T u, v>, bilinear), ft.jvp with a complex tangent = jax.jvp's.
"""
import sys
import traceback
import warnings

import numpy as np
import scipy.fft as sfft

try:
    import jax
    import jax.numpy as jnp
    import jax.scipy.fft as jsfft
    jax.config.update("jax_enable_x64", True)
except ImportError:  # values and central differences only
    jax = jnp = jsfft = None

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.fft as fsfft
from functrans import lax as flax
from tests._fuzz_common import Tally

warnings.simplefilter("ignore")

TALLY = Tally()
FAILS, COUNTS, note = TALLY.fails, TALLY.counts, TALLY.count
VERBOSE = "-v" in sys.argv
BACKENDS = {}
try:
    import array_api_strict
    BACKENDS["array_api_strict"] = (lambda a: array_api_strict.asarray(a),
                                    lambda r: np.asarray(r))
except ImportError:
    pass
try:
    import torch
    BACKENDS["torch"] = (lambda a: torch.asarray(np.array(a, copy=True)),
                         lambda r: r.numpy())
except ImportError:
    pass


def fail(case, what, msg):
    TALLY.fail(case.family, case.name, f"{what}: {msg}")


class _Skip(Exception):
    pass


class Case:
    """``call(mod, x)`` runs the case with ``mod`` one of "ft", "np", "jax" (None where
    the library has no such call)."""

    def __init__(self, family, name, x, call, jax_ok=True, diff=True):
        self.family, self.name, self.x, self.call = family, name, x, call
        self.jax_ok, self.diff = jax_ok, diff


# -- drawing ----------------------------------------------------------------------------------

DTYPES = (["complex128"] * 5 + ["float64"] * 4 + ["complex64", "float32", "float16",
                                                   "int64", "int32", "uint8", "bool"])
NORMS = [None, None, "backward", "ortho", "forward"]


def pick(rng, seq):
    return seq[int(rng.integers(0, len(seq)))]


def shape_of(rng, ndim):
    out = []
    for _ in range(ndim):
        r = rng.random()
        out.append(0 if r < 0.04 else 1 if r < 0.16 else int(rng.integers(2, 8)))
    return tuple(out)


def arr(rng, shape, dtype):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind in "iu":
        return rng.integers(0 if dt.kind == "u" else -5, 6, size=shape).astype(dt)
    x = rng.standard_normal(shape)
    if dt.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return np.asarray(x).astype(dt)


def norm_kw(rng):
    r = rng.random()
    if r < 0.02:
        return {"norm": "bogus"}
    if r < 0.3:
        return {}
    return {"norm": pick(rng, NORMS)}


def length(rng, have):
    """An n: mostly the input's length, else shorter, longer, 1, or (rarely) invalid."""
    r = rng.random()
    if r < 0.4:
        return None
    if r < 0.55:
        return max(1, have - int(rng.integers(1, 3)))
    if r < 0.8:
        return have + int(rng.integers(1, 4))
    if r < 0.9:
        return 1
    if r < 0.95:
        return int(rng.integers(2, 9))
    return pick(rng, [0, -1, -2])


def one_axis(rng, nd):
    r = rng.random()
    if r < 0.03:
        return pick(rng, [nd, -nd - 1])
    a = int(rng.integers(0, nd))
    return a - nd if rng.random() < 0.4 else a


def axes_of(rng, nd):
    r = rng.random()
    if r < 0.25:
        return None
    if nd == 0:
        return ()
    k = int(rng.integers(1, nd + 1))
    ax = [int(a) - (nd if rng.random() < 0.4 else 0) for a in rng.permutation(nd)[:k]]
    r = rng.random()
    if r < 0.06:
        ax = ax + [ax[0] - nd if ax[0] >= 0 else ax[0] + nd]   # repeated (other spelling)
    elif r < 0.12:   # repeated at a random place (NumPy: transformed once per repetition)
        at = int(rng.integers(0, len(ax) + 1))
        ax = ax[:at] + [pick(rng, ax)] + ax[at:]
    elif r < 0.14:
        ax = ax + [nd]
    return tuple(ax)


# -- families ---------------------------------------------------------------------------------

def _np_fft(name):
    def run(x, **kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getattr(np.fft, name)(x, **kw)
    return run


def _fft_call(name, kw):
    def call(mod, x):
        if mod == "ft":
            return getattr(fnp.fft, name)(x, **kw)
        if mod == "np":
            return _np_fft(name)(x, **kw)
        return getattr(jnp.fft, name)(x, **kw)
    return call


def _name(fname, x, kw):
    return f"fnp.fft.{fname}(x{tuple(x.shape)}:{x.dtype}, **{kw!r})"


def fam_1d(rng, names, family):
    name = pick(rng, names)
    nd = int(rng.integers(1, 4))
    dt = pick(rng, DTYPES)
    x = arr(rng, shape_of(rng, nd), dt)
    kw = {}
    if rng.random() < 0.7:
        kw["axis"] = one_axis(rng, nd)
    ax = kw.get("axis", -1)
    have = x.shape[ax] if -nd <= ax < nd else 3
    n = length(rng, have)
    if n is not None:
        kw["n"] = n
    kw.update(norm_kw(rng))
    return Case(family, _name(name, x, kw), x, _fft_call(name, kw))


def fam_c2r(rng):
    return fam_1d(rng, ("irfft", "hfft"), "c2r")


def fam_r2c(rng):
    return fam_1d(rng, ("rfft", "ihfft"), "r2c")


def fam_c2c(rng):
    return fam_1d(rng, ("fft", "ifft"), "c2c")


def fam_nd(rng, names, family):
    name = pick(rng, names)
    two = name.endswith("2")
    nd = int(rng.integers(0 if not two else 1, 4))
    dt = pick(rng, DTYPES)
    x = arr(rng, shape_of(rng, nd), dt)
    kw = {}
    if two:
        if rng.random() < 0.5:
            kw["axes"] = axes_of(rng, nd) or (-2, -1)
            if kw["axes"] is None:
                del kw["axes"]
    else:
        ax = axes_of(rng, nd)
        if ax is not None or rng.random() < 0.5:
            kw["axes"] = ax
    if rng.random() < 0.5:
        axes = kw.get("axes", (-2, -1) if two else None)
        k = len(axes) if axes is not None else (nd if rng.random() < 0.7 else
                                                 int(rng.integers(1, nd + 1)) if nd else 0)
        s = []
        for i in range(k):
            a = axes[i] if axes is not None else nd - k + i
            have = x.shape[a] if -nd <= a < nd else 3
            v = length(rng, have)
            s.append(v if v is not None else (-1 if rng.random() < 0.3 else have))
        if rng.random() < 0.03:
            s.append(3)  # s and axes of different lengths
        kw["s"] = tuple(s)
    kw.update(norm_kw(rng))
    return Case(family, _name(name, x, kw), x, _fft_call(name, kw))


def fam_c2cn(rng):
    return fam_nd(rng, ("fftn", "ifftn", "fft2", "ifft2"), "c2cn")


def fam_r2cn(rng):
    return fam_nd(rng, ("rfftn", "rfft2"), "r2cn")


def fam_c2rn(rng):
    return fam_nd(rng, ("irfftn", "irfft2"), "c2rn")


def fam_shift(rng):
    name = pick(rng, ("fftshift", "ifftshift"))
    nd = int(rng.integers(0, 4))
    x = arr(rng, shape_of(rng, nd), pick(rng, DTYPES))
    kw = {}
    r = rng.random()
    if r < 0.3 and nd:
        kw["axes"] = one_axis(rng, nd)
    elif r < 0.7:
        ax = axes_of(rng, nd)
        if ax is not None:
            kw["axes"] = ax  # (a repeated axis is rolled once per repetition, as NumPy)
    return Case("shift", _name(name, x, kw), x, _fft_call(name, kw))


def fam_freq(rng):
    name = pick(rng, ("fftfreq", "rfftfreq"))
    n = int(rng.integers(1, 10)) if rng.random() < 0.95 else pick(rng, [0, -3])
    d = pick(rng, [1.0, 0.5, 2, 0.1, np.float32(0.25)])
    kw = {}
    if rng.random() < 0.3:
        kw["dtype"] = pick(rng, ["float32", "float64"])
    name_s = f"fnp.fft.{name}({n}, d={d!r}, **{kw!r})"
    d_arr = np.asarray(d, dtype=np.float64)

    def call(mod, dd):
        m = {"ft": fnp, "np": np, "jax": jnp}[mod]
        if mod == "np":  # (an array d promotes: float64; an explicit dtype is the result's)
            r = getattr(np.fft, name)(n) * n / (n * dd)
            return r.astype(kw["dtype"]) if "dtype" in kw else r
        if mod == "jax":
            return getattr(m.fft, name)(n, dd, **({"dtype": kw["dtype"]} if kw else {}))
        return getattr(m.fft, name)(n, dd, **kw)
    return Case("freq", name_s, d_arr, call, diff=True)


LAX_TYPES = ["FFT", "IFFT", "RFFT", "IRFFT"]


def fam_lax(rng):
    kind = pick(rng, LAX_TYPES)
    k = int(rng.integers(1, 4))
    nd = k + int(rng.integers(0, 2))
    if rng.random() < 0.05:
        nd = k - 1
    shape = list(shape_of(rng, max(nd, 0)))
    for i in range(max(nd, 0)):
        if shape[i] == 0 and rng.random() < 0.7:
            shape[i] = 3
    shape = tuple(shape)
    lengths = list(shape[len(shape) - k:]) if nd >= k else [3] * k
    if kind == "IRFFT" and nd >= k:
        lengths[-1] = max(1, 2 * (shape[-1] - 1) + int(rng.integers(0, 2)))
    if rng.random() < 0.05 and lengths:
        lengths[-1] += 1  # a mismatch: an error
    dt = pick(rng, ["complex128", "complex128", "float64", "complex64", "float32", "int32"])
    if kind == "RFFT" and rng.random() < 0.8:
        dt = pick(rng, ["float64", "float64", "float32"])
    x = arr(rng, shape, dt)
    lengths = tuple(lengths)

    def np_ref(x):
        axes = tuple(range(x.ndim - k, x.ndim))
        if tuple(x.shape[x.ndim - k:]) != (lengths if kind != "IRFFT" else
                                            lengths[:-1] + (lengths[-1] // 2 + 1,)):
            raise ValueError("length mismatch")
        if kind == "FFT":
            return np.fft.fftn(x, axes=axes)
        if kind == "IFFT":
            return np.fft.ifftn(x, axes=axes)
        if kind == "RFFT":
            if np.iscomplexobj(x):
                raise TypeError("complex")
            return np.fft.rfftn(x, axes=axes)
        return np.fft.irfftn(x, s=lengths, axes=axes)

    def call(mod, x):
        if mod == "ft":
            return flax.fft(x, kind, lengths)
        if mod == "np":
            return np_ref(x)
        return jax.lax.fft(x, kind, lengths)
    return Case("lax", f"lax.fft(x{tuple(x.shape)}:{x.dtype}, {kind!r}, {lengths})", x, call)


def fam_dct(rng):
    name = pick(rng, ("dct", "idct", "dctn", "idctn", "dst", "idst", "dstn", "idstn"))
    t = pick(rng, [2, 2, 3, 1, 4]) if rng.random() > 0.02 else 5
    multi = name.endswith("n")
    nd = int(rng.integers(1, 4))
    shape = list(shape_of(rng, nd))
    dt = pick(rng, ["float64", "float64", "complex128", "float32", "int64"])
    kw = {"type": t}
    if multi:
        ax = axes_of(rng, nd)
        if ax is not None:
            kw["axes"] = ax
        if rng.random() < 0.4:
            axes = kw.get("axes") or tuple(range(nd))
            kw["s"] = tuple((length(rng, shape[a] if -nd <= a < nd else 3) or shape[a]
                             if -nd <= a < nd else 3) for a in axes)
    else:
        if rng.random() < 0.6:
            kw["axis"] = one_axis(rng, nd)
        if rng.random() < 0.4:
            a = kw.get("axis", -1)
            kw["n"] = length(rng, shape[a] if -nd <= a < nd else 3)
            if kw["n"] is None:
                del kw["n"]
    kw.update(norm_kw(rng))
    if rng.random() < 0.15:
        kw["orthogonalize"] = bool(rng.random() < 0.5)
    x = arr(rng, tuple(shape), dt)
    # jax.scipy.fft: dct/idct/dctn/idctn of type 2 only, no orthogonalize
    jax_ok = (name in ("dct", "idct", "dctn", "idctn") and t == 2
              and "orthogonalize" not in kw and kw.get("norm") in (None, "ortho", "backward"))

    def call(mod, x):
        if mod == "ft":
            return getattr(fsfft, name)(x, **kw)
        if mod == "np":
            if np.iscomplexobj(x) and "orthogonalize" in kw:
                # SciPy 1.17's complex path drops orthogonalize; its definition (the real and
                # imaginary parts transformed apart) is the reference
                f = getattr(sfft, name)
                return f(x.real, **kw) + 1j * f(x.imag, **kw)
            return getattr(sfft, name)(x, **kw)
        return getattr(jsfft, name)(x, **kw)
    return Case("dct", f"scipy.fft.{name}(x{tuple(x.shape)}:{x.dtype}, **{kw!r})", x, call,
                jax_ok=jax_ok)


def fam_sfft(rng):
    """The Fourier transforms under functrans.scipy.fft's names against scipy.fft's."""
    r = rng.random()
    if r < 0.5:
        case = fam_1d(rng, ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"), "sfft")
    else:
        case = fam_nd(rng, ("fftn", "ifftn", "fft2", "ifft2", "rfftn", "irfftn", "rfft2",
                            "irfft2"), "sfft")
    jcall = case.call
    name = case.name.split("(")[0].split(".")[-1]
    kw = eval(case.name.split("**")[1][:-1])  # noqa: S307 (the drawn keywords, printed above)

    def call(mod, x):
        if mod == "ft":
            return getattr(fsfft, name)(x, **kw)
        if mod == "np":
            return getattr(sfft, name)(x, **kw)
        return jcall(mod, x)
    case.call = call
    case.name = case.name.replace("fnp.fft.", "functrans.scipy.fft.")
    return case


def fam_herm(rng):
    """scipy.fft's hfftn, hfft2, ihfftn, ihfft2 (fft41) against SciPy's; s and axes now and
    then as lone integers, as SciPy takes them."""
    name = pick(rng, ("hfftn", "hfft2", "ihfftn", "ihfft2"))
    case = fam_nd(rng, (name,), "herm")
    kw = eval(case.name.split("**")[1][:-1])  # noqa: S307 (the drawn keywords, printed above)
    for key in ("s", "axes"):
        v = kw.get(key)
        if v is not None and len(v) == 1 and rng.random() < 0.5:
            kw[key] = v[0]
    x = case.x
    if name.startswith("ihfft") and np.iscomplexobj(x) and rng.random() < 0.85:
        x = np.ascontiguousarray(x.real)

    def call(mod, a):
        if mod == "ft":
            return getattr(fsfft, name)(a, **kw)
        if mod == "np":
            return getattr(sfft, name)(a, **kw)
        raise _Skip  # (jax.scipy.fft has no Hermitian transforms)
    return Case("herm", f"functrans.scipy.fft.{name}(x{tuple(x.shape)}:{x.dtype}, **{kw!r})",
                x, call, jax_ok=False)


def fam_sxtra(rng):
    """functrans.scipy.fft's helpers never drawn before (session 43) against scipy.fft's:
    fftfreq and rfftfreq (d an array: differentiated), fftshift and ifftshift (SciPy's
    axes forms), next_fast_len (real and complex), and a transform with SciPy's own keywords
    (workers, overwrite_x; the input left as it was)."""
    which = pick(rng, ("fftfreq", "rfftfreq", "fftshift", "ifftshift", "next_fast_len",
                       "keywords"))
    if which in ("fftfreq", "rfftfreq"):
        n = int(rng.integers(1, 10)) if rng.random() < 0.95 else pick(rng, [0, -2])
        d = pick(rng, [1.0, 0.5, 2.0, 0.1, 3])
        name_s = f"functrans.scipy.fft.{which}({n}, d={d!r})"

        def call(mod, dd):
            if mod == "ft":
                return getattr(fsfft, which)(n, dd)
            if mod == "np":
                return getattr(sfft, which)(n, dd)
            return getattr(jsfft, which, getattr(jnp.fft, which))(n, dd)
        return Case("sxtra", name_s, np.asarray(d, dtype=np.float64), call, jax_ok=False)
    if which in ("fftshift", "ifftshift"):
        nd = int(rng.integers(0, 4))
        x = arr(rng, shape_of(rng, nd), pick(rng, DTYPES))
        kw = {}
        if nd and rng.random() < 0.6:
            kw["axes"] = one_axis(rng, nd) if rng.random() < 0.5 else \
                [int(a) for a in rng.permutation(nd)[:int(rng.integers(1, nd + 1))]]

        def call(mod, a):
            if mod == "ft":
                return getattr(fsfft, which)(a, **kw)
            if mod == "np":
                return getattr(sfft, which)(a, **kw)
            return getattr(jnp.fft, which)(a, **kw)
        return Case("sxtra", f"functrans.scipy.fft.{which}(x{tuple(x.shape)}:{x.dtype}, "
                              f"**{kw!r})", x, call)
    if which == "next_fast_len":
        target = int(rng.integers(1, 5000)) if rng.random() < 0.97 else pick(rng, [0, -1])
        real = bool(rng.random() < 0.5)

        def call(mod, z):  # (as an array of z's library: the backends' check reads it)
            if mod == "ft":
                return fnp.zeros_like(z) + fsfft.next_fast_len(target, real)
            if mod == "np":
                return np.zeros(()) + sfft.next_fast_len(target, real)
            raise _Skip
        return Case("sxtra", f"next_fast_len({target}, real={real})", np.zeros(()), call,
                    jax_ok=False, diff=False)
    name = pick(rng, ("fft", "ifft", "rfft", "irfft", "fftn", "dct", "idst", "rfft2"))
    nd = int(rng.integers(1, 4))
    dt = pick(rng, ["complex128", "float64"] if name not in ("rfft", "rfft2") else ["float64"])
    x = arr(rng, shape_of(rng, nd), dt)
    kw = {}
    if rng.random() < 0.7:
        kw["workers"] = pick(rng, [1, 2, -1, None])
    if rng.random() < 0.7:
        kw["overwrite_x"] = bool(rng.random() < 0.5)
    kw.update(norm_kw(rng))
    if name == "rfft2" and nd < 2:
        x = arr(rng, (3, 4), dt)

    def call(mod, a):
        if mod == "ft":
            a0 = np.array(a, copy=True) if isinstance(a, np.ndarray) else None
            r = getattr(fsfft, name)(a, **kw)
            if a0 is not None and not np.array_equal(a0, a, equal_nan=True):
                raise AssertionError("overwrite_x: functrans changed the input")
            return r
        if mod == "np":
            return getattr(sfft, name)(np.array(a, copy=True), **kw)
        raise _Skip
    return Case("sxtra", f"functrans.scipy.fft.{name}(x{tuple(x.shape)}:{x.dtype}, **{kw!r})",
                x, call, jax_ok=False)


FAMILIES = {"herm": fam_herm, "c2c": fam_c2c, "sfft": fam_sfft, "c2cn": fam_c2cn, "r2c": fam_r2c, "r2cn": fam_r2cn,
            "c2r": fam_c2r, "c2rn": fam_c2rn, "shift": fam_shift, "freq": fam_freq,
            "lax": fam_lax, "dct": fam_dct, "sxtra": fam_sxtra}
# (a family's generator is keyed by its place in sorted order: a new name sorts last)


# -- checking ---------------------------------------------------------------------------------

def tol_for(dt):
    dt = np.dtype(dt)
    if dt in (np.float16,):
        return 2e-3
    if dt in (np.float32, np.complex64):
        return 3e-5
    return 1e-11


def same(got, want, tol, what, check_dtype=True):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return f"{what}: shape {got.shape} vs {want.shape}"
    if check_dtype and got.dtype != want.dtype:
        return f"{what}: dtype {got.dtype} vs {want.dtype}"
    if got.size == 0:
        return None
    scale = max(1.0, float(np.max(np.abs(want.astype(np.complex128)))))
    err = float(np.max(np.abs(got.astype(np.complex128) - want.astype(np.complex128))))
    if not err <= tol * scale * 10:
        return f"{what}: max err {err:.3g} (scale {scale:.3g})"
    return None


def run_case(case, rng):
    try:
        want = case.call("np", case.x)
        want_err = None
    except _Skip:
        note("skipped")
        return
    except Exception as e:  # noqa: BLE001
        want, want_err = None, e
    try:
        got = case.call("ft", case.x)
        got_err = None
    except Exception as e:  # noqa: BLE001
        got, got_err = None, e
    if want_err is not None and got_err is not None:
        if type(got_err) is not type(want_err) and not isinstance(got_err, type(want_err)):
            note(f"both-error-other-type:{type(want_err).__name__}->"
                 f"{type(got_err).__name__}")
        note("both-error")
        if VERBOSE:
            print(f"  both error: {case.name}: NumPy {type(want_err).__name__}: {want_err}; "
                  f"ft {type(got_err).__name__}: {got_err}")
        return
    if want_err is not None and case.family in ("shift", "sxtra") and \
            "not enough values to unpack" in str(want_err):
        # (NumPy's np.roll fails on a 0-d array; functrans returns it, as jax.numpy)
        note("numpy-0d-shift-crash")
        return
    if want_err is not None:
        note("numpy-error-only")
        print(f"NOTE [{case.family}] only the reference raises ({type(want_err).__name__}: "
              f"{str(want_err)[:100]}); ft gave {np.asarray(got).shape}\n    {case.name}")
        return
    if got_err is not None and "invalid number of data points (0)" in str(got_err) and \
            case.family == "sfft" and "'n': 0" in case.name:
        # SciPy's irfft/hfft take an explicit n=0 as pocketfft's "2 m - 1" (one entry
        # for m = 1, silently); functrans refuses the length 0
        note("scipy-c2r-n0-refused")
        return
    if got_err is not None and (
            (case.family == "freq" and "invalid number of data points (-" in str(got_err))
            or (case.family == "sxtra" and "freq(" in case.name
                and "invalid number of data points" in str(got_err))):
        # (NumPy's rfftfreq of a negative n gives [] silently; functrans refuses as fft40
        # decided, and as NumPy's fftfreq)
        note("rfftfreq-negative-refused")
        return
    if got_err is not None and "norm must be one of" in str(got_err):
        note("bad-norm-refused")  # (NumPy does not look at norm when no axis is transformed)
        return
    if got_err is not None:
        msg = "".join(traceback.format_exception_only(type(got_err), got_err)).strip()
        fail(case, "ft raises", msg[:300])
        if VERBOSE:
            traceback.print_exception(got_err)
        return
    tol = tol_for(np.asarray(want).dtype)
    if np.asarray(case.x).dtype == np.float16 and case.family in ("r2cn", "sfft"):
        # NumPy 2.4's rfftn of float16 rounds in half precision on the way (8e-4 off the
        # float64 transform; functrans 2e-7): the reference from float32 input, in NumPy's dtype
        try:
            want = np.asarray(case.call("np", case.x.astype(np.float32))).astype(
                np.asarray(want).dtype)
        except Exception:  # noqa: BLE001
            pass
    if case.family in ("c2r", "c2rn", "herm", "sfft") and np.asarray(case.x).size == 0 and \
            np.asarray(want).size and np.any(np.asarray(want) != 0):
        # NumPy 2.4's irfft (and hfft) of an input whose transformed axis is EMPTY, with
        # an explicit n, returns uninitialized memory (irfft(zeros((2, 2, 0)), n=1) gave
        # -1.2e34 or 4.7e-310, varying by run); the input zero-padded to n // 2 + 1 is
        # all zeros, so the transform is zeros: the reference here
        note("numpy-empty-c2r-garbage")
        want = np.zeros_like(np.asarray(want))
    m = same(got, want, tol, "value")
    if m:
        fail(case, "value", m)
        return
    note("value-ok")
    check_backends(case, want, tol)
    check_jax_value(case, want, tol)
    check_jit(case, got, tol)
    dt = np.asarray(case.x).dtype
    if case.diff and dt in (np.float64, np.complex128) and \
            np.asarray(got).dtype in (np.float64, np.complex128) and \
            np.asarray(case.x).size and np.asarray(got).size:
        check_derivs(case, rng)


def check_backends(case, want, tol):
    for bname, (make, back) in BACKENDS.items():
        if bname == "array_api_strict" and np.asarray(case.x).dtype == np.float16:
            continue  # (array-api-strict has no float16)
        try:
            r = case.call("ft", make(case.x))
            m = same(back(r), want, tol, f"{bname} value")
        except Exception as e:  # noqa: BLE001
            m = f"{bname} raises {type(e).__name__}: {str(e)[:200]}"
        if m:
            fail(case, f"{bname}", m)
        else:
            note(f"{bname}-ok")


def check_jax_value(case, want, tol):
    if jax is None or not case.jax_ok:
        return
    try:
        j = jax.jit(lambda a: case.call("jax", a))(case.x)
    except Exception as e:  # noqa: BLE001
        note("jax-raises")
        if VERBOSE:
            print(f"  jax raises {type(e).__name__}: {str(e)[:100]}: {case.name}")
        return
    j = np.asarray(j)
    if j.dtype != np.asarray(want).dtype:
        note(f"jax-dtype {np.asarray(case.x).dtype}->{j.dtype} (numpy {np.asarray(want).dtype})")
    m = same(j, want, max(tol, tol_for(j.dtype)), "jax value", check_dtype=False)
    if m:
        note("jax-value-differs")
        print(f"NOTE [{case.family}] jax differs from the reference: {m}\n    {case.name}")
    else:
        note("jax-value-ok")


def check_jit(case, got, tol):
    try:
        jitted = ft.jit(lambda a: case.call("ft", a))(case.x)
    except Exception as e:  # noqa: BLE001
        fail(case, "jit raises", f"{type(e).__name__}: {str(e)[:300]}")
        return
    m = same(jitted, got, tol, "jit")
    if m:
        fail(case, "jit", m)
    else:
        note("jit-ok")


# -- derivatives: the case as a real function of real arrays -----------------------------------

def real_fn(case, mod):
    """F(xr[, xi]) -> real vector: x = xr (+ i xi), pre-map x + x^2 / 4, transform, then the
    real and imaginary parts raveled and concatenated."""
    complex_in = np.iscomplexobj(case.x)
    m = {"ft": fnp, "jax": jnp}[mod]

    def F(*parts):
        x = parts[0] + 1j * parts[1] if complex_in else parts[0]
        x = x + x * x * 0.25
        y = case.call(mod, x)
        if m.iscomplexobj(y) if mod == "jax" else fnp.isdtype(y.dtype, "complex floating"):
            return m.concat([m.reshape(m.real(y), (-1,)), m.reshape(m.imag(y), (-1,))])
        return m.reshape(y, (-1,))
    return F


def parts_of(x):
    x = np.asarray(x)
    return (x.real.copy(), x.imag.copy()) if np.iscomplexobj(x) else (x.copy(),)


def close(a, b, rtol, what):
    """A message where ``a`` is not within ``rtol`` of ``b`` (scaled by max |b|, at least 1;
    no nan or infinity allowances, unlike _fuzz_common.close_scaled), else None."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return f"{what}: shape {a.shape} vs {b.shape}"
    if a.size == 0:
        return None
    err = float(np.max(np.abs(a - b)))
    sc = max(1.0, float(np.max(np.abs(b))))
    return None if err <= rtol * sc else f"{what}: err {err:.3g} (scale {sc:.3g})"


def check_derivs(case, rng):
    F = real_fn(case, "ft")
    # (jitted: JAX's op-by-op mode compiles every primitive, minutes per run)
    JF = jax.jit(real_fn(case, "jax")) if jax is not None and case.jax_ok else None
    primals = parts_of(case.x)
    if JF is not None:
        try:
            if np.shape(JF(*primals)) != np.shape(F(*primals)):  # (jax's fftn of a 0-d:
                JF = None                                         # complex, NumPy's: as is)
                note("jax-other-dtype")
        except Exception:  # noqa: BLE001  (a call jax refuses: fft2 over one axis, s = -1)
            JF = None
            note("jax-refuses")
    tangents = tuple(rng.standard_normal(p.shape) for p in primals)
    argn = tuple(range(len(primals)))
    try:
        out, tan = ft.jvp(F, primals, tangents)
    except Exception as e:  # noqa: BLE001
        fail(case, "jvp raises", f"{type(e).__name__}: {str(e)[:300]}")
        return
    h = 1e-6
    fd = (np.asarray(F(*[p + h * t for p, t in zip(primals, tangents)])) -
          np.asarray(F(*[p - h * t for p, t in zip(primals, tangents)]))) / (2 * h)
    m = close(tan, fd, 1e-5, "jvp vs central")
    if m:
        fail(case, "jvp", m)
        return
    note("jvp-fd-ok")
    if JF is not None:
        try:
            _, jt = jax.jvp(JF, primals, tangents)
            m = close(tan, jt, 1e-10, "jvp vs jax")
            if m:
                fail(case, "jvp jax", m)
            else:
                note("jvp-jax-ok")
        except Exception as e:  # noqa: BLE001
            note(f"jax-jvp-error:{case.family}")
            if VERBOSE:
                print(f"  jax jvp error {case.name}: {e}")
    # vjp: <u, J v> = <J^T u, v>
    try:
        out2, pull = ft.vjp(F, *primals)
        u = rng.standard_normal(np.shape(out2))
        cts = pull(u)
    except Exception as e:  # noqa: BLE001
        fail(case, "vjp raises", f"{type(e).__name__}: {str(e)[:300]}")
        return
    lhs = float(np.sum(u * np.asarray(tan)))
    rhs = sum(float(np.sum(np.asarray(c) * t)) for c, t in zip(cts, tangents))
    if abs(lhs - rhs) > 1e-9 * max(1.0, abs(lhs), float(np.sum(np.abs(u)))):
        fail(case, "vjp dot identity", f"<u,Jv>={lhs} vs <J^T u,v>={rhs}")
        return
    note("vjp-dot-ok")
    if JF is not None:
        try:
            _, jpull = jax.vjp(JF, *primals)
            jcts = jpull(jnp.asarray(u))
            for c, jc in zip(cts, jcts):
                m = close(c, jc, 1e-10, "vjp vs jax")
                if m:
                    fail(case, "vjp jax", m)
                    break
            else:
                note("vjp-jax-ok")
        except Exception as e:  # noqa: BLE001
            note(f"jax-vjp-error:{case.family}")
            if VERBOSE:
                print(f"  jax vjp error {case.name}: {e}")
    check_complex_convention(case, rng)

    def loss(*p):
        return fnp.sum(fnp.sin(F(*p)) * u)
    try:
        g = ft.grad(loss, argnums=argn)(*primals)
        gj = ft.jit(ft.grad(loss, argnums=argn))(*primals)
        for a, b in zip(gj, g):
            m = close(a, b, 1e-12, "jit(grad)")
            if m:
                fail(case, "jit(grad)", m)
                break
        else:
            note("jit-grad-ok")
    except Exception as e:  # noqa: BLE001
        fail(case, "grad raises", f"{type(e).__name__}: {str(e)[:300]}")
        return
    if JF is not None:
        def jloss(*p):
            return jnp.sum(jnp.sin(JF(*p)) * u)
        jg = jax.jit(jax.grad(jloss, argnums=argn))(*primals)
        for a, b in zip(g, jg):
            m = close(a, b, 1e-10, "grad vs jax")
            if m:
                fail(case, "grad jax", m)
                break
        else:
            note("grad-jax-ok")
    size = sum(p.size for p in primals)
    if size <= 40 and np.size(out) <= 80:
        try:
            jf = ft.jacfwd(F, argnums=argn)(*primals)
            jr = ft.jacrev(F, argnums=argn)(*primals)
            for a, b in zip(jf, jr):
                m = close(a, b, 1e-12, "jacfwd vs jacrev")
                if m:
                    fail(case, "jacobians", m)
                    break
            else:
                note("jac-ok")
        except Exception as e:  # noqa: BLE001
            fail(case, "jacobian raises", f"{type(e).__name__}: {str(e)[:300]}")
    if size <= 16 and np.size(out) <= 64 and JF is not None:
        try:
            def jloss2(*p):
                return jnp.sum(jnp.sin(JF(*p)) * u)
            h1 = ft.hessian(loss, argnums=argn)(*primals)
            h2 = jax.jit(jax.hessian(jloss2, argnums=argn))(*primals)
            for i in argn:
                for j in argn:
                    m = close(h1[i][j], h2[i][j], 1e-9, f"hessian[{i}][{j}] vs jax")
                    if m:
                        fail(case, "hessian", m)
                        break
            note("hessian-ok")
        except Exception as e:  # noqa: BLE001
            fail(case, "hessian raises", f"{type(e).__name__}: {str(e)[:300]}")
    check_vmap(case, rng)


def check_complex_convention(case, rng):
    """For complex input and output, ft.vjp / ft.jvp with complex vectors = jax's."""
    if jax is None or not case.jax_ok or not np.iscomplexobj(case.x):
        return
    x = np.asarray(case.x)
    try:
        jy = case.call("jax", x)
    except Exception:  # noqa: BLE001
        return
    try:
        y, pull = ft.vjp(lambda a: case.call("ft", a), x)
        y = np.asarray(y)
        if np.shape(jy) != y.shape:
            # (JAX's own value has another shape, noted by check_jax_value: e.g. irfft2 along
            # a length-1 last axis, JAX's n = 0 where SciPy's reference gives 1)
            note("complex-convention-jax-shape-differs")
            return
        ct = rng.standard_normal(y.shape) + (1j * rng.standard_normal(y.shape)
                                             if np.iscomplexobj(y) else 0)
        (c,) = pull(ct.astype(y.dtype))
        jcall = jax.jit(lambda a: case.call("jax", a))
        _, jpull = jax.vjp(jcall, x)
        (jc,) = jpull(jnp.asarray(ct.astype(y.dtype)))
        m = close(np.stack([np.real(c), np.imag(c)]), np.stack([np.real(jc), np.imag(jc)]),
                  1e-10, "complex vjp vs jax")
        t = rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)
        _, tt = ft.jvp(lambda a: case.call("ft", a), (x,), (t,))
        _, jt = jax.jvp(jcall, (x,), (t,))
        m = m or same(tt, jt, 1e-11, "complex jvp vs jax", check_dtype=False)
        # the bilinear identity Re sum(ct * J t) = Re sum(J^T ct * t)
        lhs = float(np.real(np.sum(ct * np.asarray(tt))))
        rhs = float(np.real(np.sum(np.asarray(c) * t)))
        if abs(lhs - rhs) > 1e-9 * max(1.0, abs(lhs), float(np.sum(np.abs(ct)))):
            m = m or f"Re<ct, J t> = {lhs} vs Re<J^T ct, t> = {rhs}"
    except Exception as e:  # noqa: BLE001
        m = f"raises {type(e).__name__}: {str(e)[:200]}"
    if m:
        fail(case, "complex convention", m)
    else:
        note("complex-vjp-jvp-ok")


def check_vmap(case, rng):
    x = np.asarray(case.x)
    if x.ndim == 0:
        return
    ax = int(rng.integers(-x.ndim - 1, x.ndim + 1))
    other = arr(rng, x.shape, x.dtype)
    batch = np.stack([x, other], axis=ax)
    out_ax = int(rng.integers(0, 2))
    try:
        r = ft.vmap(lambda a: case.call("ft", a), in_axes=ax, out_axes=out_ax)(batch)
        loop = np.stack([np.asarray(case.call("ft", x)), np.asarray(case.call("ft", other))],
                        axis=out_ax)
        m = same(r, loop, tol_for(loop.dtype), f"vmap(in_axes={ax}, out_axes={out_ax})")
    except Exception as e:  # noqa: BLE001
        m = f"vmap(in_axes={ax}) raises {type(e).__name__}: {str(e)[:200]}"
    if m:
        fail(case, "vmap", m)
    else:
        note("vmap-ok")
    # vmap of a vjp (the transposes batched)
    try:
        def vj(a, ct):
            _, pull = ft.vjp(lambda q: case.call("ft", q), a)
            return pull(ct)[0]
        y = np.asarray(case.call("ft", x))
        cts = rng.standard_normal((2,) + y.shape).astype(y.dtype)
        if np.iscomplexobj(y):
            cts = cts + 1j * rng.standard_normal(cts.shape)
        b0 = np.stack([x, other])
        r = ft.vmap(vj)(b0, cts)
        loop = np.stack([np.asarray(vj(b0[i], cts[i])) for i in range(2)])
        m = same(r, loop, tol_for(loop.dtype), "vmap(vjp)")
    except Exception as e:  # noqa: BLE001
        m = f"vmap(vjp) raises {type(e).__name__}: {str(e)[:200]}"
    if m:
        fail(case, "vmap(vjp)", m)
    else:
        note("vmap-vjp-ok")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    s0 = int(args[0]) if args else 0
    s1 = int(args[1]) if len(args) > 1 else s0 + 100
    fams = args[2:] or sorted(FAMILIES)
    for seed in range(s0, s1):
        for fam in fams:
            rng = np.random.default_rng([seed, sorted(FAMILIES).index(fam)])
            try:
                case = FAMILIES[fam](rng)
            except Exception as e:  # noqa: BLE001
                print(f"HARNESS [{fam}] seed {seed} drawing: {type(e).__name__}: {e}")
                continue
            note(f"case:{fam}")
            if VERBOSE:
                print(f"seed {seed} {fam}: {case.name}", flush=True)
            try:
                run_case(case, rng)
            except Exception as e:  # noqa: BLE001  (the fuzzer's own fault: say so)
                print(f"HARNESS [{fam}] seed {seed}: {type(e).__name__}: {e}\n    {case.name}")
                if VERBOSE:
                    traceback.print_exc()
    return TALLY.exit_status("counts:")


if __name__ == "__main__":
    sys.exit(main())
