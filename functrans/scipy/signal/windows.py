"""``functrans.scipy.signal.windows``: the windows of ``scipy.signal.windows``, with SciPy
1.17's signatures, aliases and values (float64), as arrays of any backend.

The windows are written with functrans.numpy, so those with parameters are differentiable
in them where SciPy's formula is smooth: ``kaiser`` and ``kaiser_bessel_derived`` in
``beta`` (through ``i0``), ``gaussian`` in ``std``, ``general_gaussian`` in ``p`` and
``sig``, ``tukey`` in ``alpha``, ``general_cosine`` in ``a``, ``general_hamming`` in
``alpha``, ``exponential`` in ``center`` and ``tau``, ``chebwin`` in ``at`` and ``taylor``
in ``sll`` (a parameter may be a traced or concrete 0-d array: the window is then made
next to it). ``dpss`` is computed on the host (NumPy) from concrete parameters (a traced
one raises TypeError). ``device=`` places a window (default: the parameters' library and
device, else the default backend); SciPy's ``xp=`` is not an argument.
"""

from __future__ import annotations

import math
import operator
import warnings

import numpy as _np

from ... import numpy as fnp

__all__ = ["boxcar", "triang", "parzen", "bohman", "blackman", "nuttall", "blackmanharris",
           "flattop", "bartlett", "barthann", "hamming", "kaiser", "kaiser_bessel_derived",
           "gaussian", "general_cosine", "general_gaussian", "general_hamming", "chebwin",
           "cosine", "hann", "exponential", "tukey", "taylor", "dpss", "get_window",
           "lanczos"]


# -- helpers -------------------------------------------------------------------------------


def _length(M, name):
    try:
        ok = not isinstance(M, bool) and int(M) == M and M >= 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name}: the window length M must be a non-negative integer; "
                         f"got {M!r}")
    return int(M)


def _is_array(p):
    return hasattr(p, "shape") and not isinstance(p, _np.generic)


def _where_to(params, device):
    """The device of the window: ``device``, else that of the first array parameter (its
    library too), else None (the default backend)."""
    if device is not None:
        return device
    for p in params:
        if _is_array(p):
            return fnp.device(p)
    return None


def _scalar(p, what, name):
    """A parameter as a Python float, or (an array: maybe traced) a 0-d float64 array."""
    if _is_array(p):
        if p.ndim != 0:
            raise ValueError(f"{name}: {what} must be a scalar; got shape {tuple(p.shape)}")
        if fnp.isdtype(p.dtype, "complex floating"):
            raise TypeError(f"{name}: {what} must be real")
        return fnp.astype(p, fnp.float64)
    try:
        return float(p)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: {what} must be a real number; got {p!r}") from None


def _static(p, what, name):
    """A parameter of a window computed on the host, as a Python float."""
    from ...core import Tracer
    if isinstance(p, Tracer):
        raise TypeError(f"{name}: {what} must be concrete (this window is computed on the "
                        f"host, without derivatives); got a traced value")
    if _is_array(p):
        from ...backends import backend_of
        p = _np.asarray(backend_of(p).to_numpy(p))
        if p.ndim != 0:
            raise ValueError(f"{name}: {what} must be a scalar; got shape {p.shape}")
    return float(p)


def _ones(M, dev):
    return fnp.ones(M, dtype=fnp.float64, device=dev)


def _grid(M, dev):
    return fnp.arange(M, dtype=fnp.float64, device=dev)


def _from_host(w, dev):
    return fnp.asarray(_np.asarray(w, dtype=_np.float64), device=dev)


def _sym_check(sym, name):
    if not isinstance(sym, (bool, _np.bool_)):
        raise TypeError(f"{name}: sym must be True or False; got {sym!r}")
    return bool(sym)


def _window(name, M, sym, params, device, make):
    """The common frame: ``M`` checked, windows of 0 or 1 point are ones, a periodic window
    (``sym=False``) is the symmetric one of ``M + 1`` points without its last."""
    M = _length(M, name)
    periodic = not _sym_check(sym, name)
    dev = _where_to(params, device)
    if M <= 1:
        return _ones(M, dev)
    w = make(M + 1 if periodic else M, dev)
    return w[:-1] if periodic else w


def _cosine_sum(M, a, dev):
    """sum_k a[k] cos(k x) on the symmetric grid x = linspace(-pi, pi, M) (SciPy's
    order of summation)."""
    x = fnp.linspace(-math.pi, math.pi, M, dtype=fnp.float64, device=dev)
    w = fnp.zeros(M, dtype=fnp.float64, device=dev)
    for k in range(len(a)):  # (functions, not operators: w is a plain array, a[k] maybe traced)
        w = fnp.add(w, fnp.multiply(a[k], fnp.cos(k * x)))
    return w


# -- windows without parameters ---------------------------------------------------------


def boxcar(M, sym=True, *, device=None):
    """The rectangular window (ones), as ``scipy.signal.windows.boxcar``."""
    M = _length(M, "boxcar")
    _sym_check(sym, "boxcar")
    return _ones(M, device)


def triang(M, sym=True, *, device=None):
    """The triangular window that does not reach zero at its ends, as
    ``scipy.signal.windows.triang``."""
    def make(m, dev):
        n = _grid(m, dev)
        return 1.0 - fnp.abs(2.0 * n - (m - 1)) / (m + m % 2)
    return _window("triang", M, sym, (), device, make)


def parzen(M, sym=True, *, device=None):
    """The Parzen (de la Vallee Poussin) window, as ``scipy.signal.windows.parzen``."""
    def make(m, dev):
        a = fnp.abs(_grid(m, dev) - (m - 1) / 2.0)
        r = a / (m / 2.0)
        return fnp.where(a <= (m - 1) / 4.0, 1 - 6 * r ** 2.0 + 6 * r ** 3.0,
                         2 * (1 - r) ** 3.0)
    return _window("parzen", M, sym, (), device, make)


def bohman(M, sym=True, *, device=None):
    """The Bohman window, as ``scipy.signal.windows.bohman``."""
    def make(m, dev):
        f = fnp.abs(fnp.linspace(-1.0, 1.0, m, dtype=fnp.float64, device=dev))
        w = (1 - f) * fnp.cos(math.pi * f) + fnp.sin(math.pi * f) / math.pi
        edge = fnp.asarray([0.0], dtype=fnp.float64, device=dev)
        return fnp.concat([edge, w[1:-1], edge])
    return _window("bohman", M, sym, (), device, make)


def _fixed_cosine(name, coefs):
    def window(M, sym=True, *, device=None):
        return _window(name, M, sym, (), device, lambda m, dev: _cosine_sum(m, coefs, dev))
    window.__name__ = window.__qualname__ = name
    window.__doc__ = (f"The {name} window (a sum of cosines with the coefficients "
                      f"{list(coefs)}), as ``scipy.signal.windows.{name}``.")
    return window


blackman = _fixed_cosine("blackman", (0.42, 0.50, 0.08))
nuttall = _fixed_cosine("nuttall", (0.3635819, 0.4891775, 0.1365995, 0.0106411))
blackmanharris = _fixed_cosine("blackmanharris", (0.35875, 0.48829, 0.14128, 0.01168))
flattop = _fixed_cosine("flattop", (0.21557895, 0.41663158, 0.277263158, 0.083578947,
                                    0.006947368))


def bartlett(M, sym=True, *, device=None):
    """The Bartlett window (triangular, zero at both ends), as
    ``scipy.signal.windows.bartlett``."""
    def make(m, dev):
        n = _grid(m, dev)
        return fnp.where(n <= (m - 1) / 2.0, 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))
    return _window("bartlett", M, sym, (), device, make)


def hann(M, sym=True, *, device=None):
    """The Hann window, as ``scipy.signal.windows.hann``."""
    return _window("hann", M, sym, (), device, lambda m, dev: _cosine_sum(m, (0.5, 0.5), dev))


def hamming(M, sym=True, *, device=None):
    """The Hamming window, as ``scipy.signal.windows.hamming``."""
    return _window("hamming", M, sym, (), device,
                   lambda m, dev: _cosine_sum(m, (0.54, 1.0 - 0.54), dev))


def barthann(M, sym=True, *, device=None):
    """The modified Bartlett-Hann window, as ``scipy.signal.windows.barthann``."""
    def make(m, dev):
        f = fnp.abs(_grid(m, dev) / (m - 1.0) - 0.5)
        return 0.62 - 0.48 * f + 0.38 * fnp.cos(2 * math.pi * f)
    return _window("barthann", M, sym, (), device, make)


def cosine(M, sym=True, *, device=None):
    """The cosine (sine) window, as ``scipy.signal.windows.cosine``."""
    def make(m, dev):
        return fnp.sin(math.pi / m * (_grid(m, dev) + 0.5))
    return _window("cosine", M, sym, (), device, make)


def lanczos(M, *, sym=True, device=None):
    """The Lanczos (sinc) window, as ``scipy.signal.windows.lanczos``."""
    def make(m, dev):
        return fnp.sinc(2.0 * _grid(m, dev) / (m - 1) - 1.0)
    return _window("lanczos", M, sym, (), device, make)


# -- windows with parameters (differentiable in them) -----------------------------------------


def general_cosine(M, a, sym=True, *, device=None):
    """The sum of cosines ``sum_k a[k] cos(2 pi k n / (M - 1) - pi k)`` (``a``: a sequence or
    1-D array of weights), as ``scipy.signal.windows.general_cosine``; differentiable in
    ``a``."""
    name = "general_cosine"
    if _is_array(a):
        if a.ndim != 1:
            raise ValueError(f"{name}: a must be 1-D; got shape {tuple(a.shape)}")
        coefs = fnp.astype(a, fnp.float64)
    else:
        coefs = [_scalar(v, "a", name) for v in a]
    return _window(name, M, sym, (a,), device, lambda m, dev: _cosine_sum(m, coefs, dev))


def general_hamming(M, alpha, sym=True, *, device=None):
    """``alpha - (1 - alpha) cos(2 pi n / (M - 1))``, as
    ``scipy.signal.windows.general_hamming``; differentiable in ``alpha``."""
    al = _scalar(alpha, "alpha", "general_hamming")
    return _window("general_hamming", M, sym, (alpha,), device,
                   lambda m, dev: _cosine_sum(m, (al, 1.0 - al), dev))


def _i0(x):
    from .. import special
    return special.i0(x)


def kaiser(M, beta, sym=True, *, device=None):
    """The Kaiser window ``i0(beta sqrt(1 - (2n/(M-1) - 1)**2)) / i0(beta)``, as
    ``scipy.signal.windows.kaiser``; differentiable in ``beta``."""
    b = _scalar(beta, "beta", "kaiser")

    def make(m, dev):
        half = (m - 1) / 2.0
        root = fnp.sqrt(1 - ((_grid(m, dev) - half) / half) ** 2.0)
        bb = b if _is_array(b) else fnp.asarray(b, dtype=fnp.float64, device=dev)
        return _i0(bb * root) / _i0(bb)
    return _window("kaiser", M, sym, (beta,), device, make)


def kaiser_bessel_derived(M, beta, *, sym=True, device=None):
    """The Kaiser-Bessel derived window (``M`` even, symmetric only), as
    ``scipy.signal.windows.kaiser_bessel_derived``; differentiable in ``beta``."""
    name = "kaiser_bessel_derived"
    M = _length(M, name)
    if not _sym_check(sym, name):
        raise ValueError(f"{name}: Kaiser-Bessel Derived windows are only defined for "
                         f"symmetric shapes (sym=True)")
    if M < 1:
        return fnp.zeros(0, dtype=fnp.float64, device=_where_to((beta,), device))
    if M % 2:
        raise ValueError(f"{name}: Kaiser-Bessel Derived windows are only defined for an "
                         f"even number of points; got M={M}")
    csum = fnp.cumulative_sum(kaiser(M // 2 + 1, beta, device=device))
    half = fnp.sqrt(csum[:-1] / csum[-1])
    return fnp.concat([half, fnp.flip(half)])


def gaussian(M, std, sym=True, *, device=None):
    """The Gaussian window ``exp(-n**2 / (2 std**2))`` (``n`` from the centre), as
    ``scipy.signal.windows.gaussian``; differentiable in ``std``."""
    s = _scalar(std, "std", "gaussian")

    def make(m, dev):
        n = _grid(m, dev) - (m - 1.0) / 2.0
        # (fnp.divide: n is a plain array, which array-api-strict's operators refuse to
        # combine with a traced std)
        return fnp.exp(fnp.divide(-n ** 2, 2 * s * s))
    return _window("gaussian", M, sym, (std,), device, make)


def general_gaussian(M, p, sig, sym=True, *, device=None):
    """The generalized Gaussian ``exp(-0.5 |n / sig|**(2 p))``, as
    ``scipy.signal.windows.general_gaussian``; differentiable in ``p`` and ``sig`` (the
    centre sample of an odd window is 1 with derivative 0)."""
    pp = _scalar(p, "p", "general_gaussian")
    s = _scalar(sig, "sig", "general_gaussian")

    def make(m, dev):
        n = _grid(m, dev) - (m - 1.0) / 2.0
        centre = n == 0
        # |0|**(2p) has no derivative in p (log 0): the centre is set apart
        safe = fnp.where(centre, fnp.ones_like(n), n)
        w = fnp.exp(-0.5 * fnp.pow(fnp.abs(fnp.divide(safe, s)), 2 * pp))
        return fnp.where(centre, fnp.ones_like(w), w)
    return _window("general_gaussian", M, sym, (p, sig), device, make)


def exponential(M, center=None, tau=1.0, sym=True, *, device=None):
    """The exponential (Poisson) window ``exp(-|n - center| / tau)``, as
    ``scipy.signal.windows.exponential`` (``center`` only with ``sym=False``; None: the
    middle); differentiable in ``center`` and ``tau``."""
    name = "exponential"
    if _sym_check(sym, name) and center is not None:
        raise ValueError(f"{name}: If sym==True, center must be None.")
    t = _scalar(tau, "tau", name)
    c = None if center is None else _scalar(center, "center", name)

    def make(m, dev):
        mid = (m - 1) / 2 if c is None else c
        return fnp.exp(fnp.divide(-fnp.abs(fnp.subtract(_grid(m, dev), mid)), t))
    return _window(name, M, sym, (center, tau), device, make)


def tukey(M, alpha=0.5, sym=True, *, device=None):
    """The Tukey (tapered cosine) window: cosine tapers over the fraction ``alpha`` of the
    window, flat in between (``alpha <= 0``: boxcar, ``alpha >= 1``: hann), as
    ``scipy.signal.windows.tukey``; differentiable in ``alpha`` (0 outside (0, 1))."""
    name = "tukey"
    a = _scalar(alpha, "alpha", name)
    if not _is_array(a):
        if a <= 0:
            return _window(name, M, sym, (), device, lambda m, dev: _ones(m, dev))
        if a >= 1:
            return hann(M, sym, device=device)

    def make(m, dev):
        n = _grid(m, dev)
        # (a traced alpha below 0.5/m gives the window of any alpha in (0, 0.5/m): the ends
        # 0, the rest 1; clipped there, nothing overflows in the unused branches)
        ac = fnp.clip(a, 0.5 / m, 1.0) if _is_array(a) else a
        edge = ac * (m - 1) / 2.0
        # (functions, not operators, where the plain grid n meets the maybe traced alpha)
        ratio = fnp.divide(2.0 * n, ac) / (m - 1)
        left = 0.5 * (1 + fnp.cos(math.pi * (-1 + ratio)))
        right = 0.5 * (1 + fnp.cos(math.pi * (-2.0 / ac + 1 + ratio)))
        w = fnp.where(fnp.less_equal(n, edge), left,
                      fnp.where(fnp.less_equal(m - 1 - n, edge), right, fnp.ones_like(n)))
        if _is_array(a):
            w = fnp.where(a <= 0, fnp.ones_like(w), w)
        return w
    return _window(name, M, sym, (alpha,), device, make)


def chebwin(M, at, sym=True, *, device=None):
    """The Dolph-Chebyshev window of sidelobe attenuation ``at`` dB, as
    ``scipy.signal.windows.chebwin`` (a UserWarning below 45 dB for a concrete ``at``, as
    SciPy's); differentiable in ``at``."""
    name = "chebwin"
    at = _scalar(at, "at", name)
    if not _is_array(at) and abs(at) < 45:
        warnings.warn("This window is not suitable for spectral analysis for attenuation "
                      "values lower than about 45dB because the equivalent noise bandwidth "
                      "of a Chebyshev window does not grow monotonically with increasing "
                      "sidelobe attenuation when the attenuation is smaller than about "
                      "45 dB.", UserWarning, stacklevel=2)

    def make(m, dev):
        order = m - 1.0
        att = fnp.abs(at) if _is_array(at) else abs(at)
        beta = fnp.cosh(fnp.acosh(10 ** (att / 20.0)) / order)
        x = beta * fnp.asarray(_np.cos(_np.pi * _np.arange(m) / m).tolist(),
                               dtype=fnp.float64, device=dev)
        # the Chebyshev polynomial of degree m - 1 at x by its cosh and cos forms, each
        # branch fed a safe value where it is not taken (no nan in its derivative)
        up, down = x > 1, x < -1
        two = fnp.full_like(x, 2.0)
        p_up = fnp.cosh(order * fnp.acosh(fnp.where(up, x, two)))
        p_down = (2 * (m % 2) - 1) * fnp.cosh(order * fnp.acosh(fnp.where(down, -x, two)))
        mid = fnp.where(up | down, fnp.zeros_like(x), x)
        p = fnp.where(up, p_up, fnp.where(down, p_down, fnp.cos(order * fnp.acos(mid))))
        if m % 2:
            w = fnp.real(fnp.fft.fft(p))[: (m + 1) // 2]
            w = fnp.concat([fnp.flip(w[1:]), w])
        else:
            shift = _np.exp(1j * _np.pi / m * _np.arange(m))
            w = fnp.real(fnp.fft.fft(p * fnp.asarray(shift.tolist(), dtype=fnp.complex128,
                                                     device=dev)))
            half = w[1: m // 2 + 1]
            w = fnp.concat([fnp.flip(half), half])
        return w / fnp.max(w)
    return _window(name, M, sym, (at,), device, make)


def taylor(M, nbar=4, sll=30, norm=True, sym=True, *, device=None):
    """The Taylor window (``nbar`` nearly constant sidelobes ``sll`` dB below the main
    lobe; ``norm``: 1 at the centre), as ``scipy.signal.windows.taylor``; differentiable in
    ``sll``."""
    name = "taylor"
    try:
        nbar = operator.index(nbar)
    except TypeError:
        raise TypeError(f"{name}: nbar must be an integer; got {nbar!r}") from None
    sll = _scalar(sll, "sll", name)

    def make(m, dev):
        a = fnp.acosh(10 ** (sll / 20)) / math.pi
        s2 = nbar ** 2 / (a ** 2 + (nbar - 0.5) ** 2)
        ms = _np.arange(1, nbar, dtype=_np.float64)
        m2 = ms * ms
        shifted = fnp.asarray(((ms - 0.5) ** 2).tolist(), dtype=fnp.float64, device=dev)
        coefs = []
        for i in range(nbar - 1):
            num = (1.0 if i % 2 == 0 else -1.0) * fnp.prod(
                1 - m2[i] / s2 / (a ** 2 + shifted))
            den = 2 * _np.prod(1 - m2[i] / m2[:i]) * _np.prod(1 - m2[i] / m2[i + 1:])
            coefs.append(num / den)

        def series(n):
            if not coefs:  # (nbar 1: no sidelobe terms)
                return fnp.ones(m if n is None else len(n), dtype=fnp.float64, device=dev)
            pos = _np.arange(m, dtype=_np.float64) if n is None else _np.asarray(n)
            cos = _np.cos(2 * _np.pi * ms[:, None] * (pos - m / 2.0 + 0.5) / m)
            return 1 + 2 * fnp.matmul(fnp.stack(coefs), fnp.asarray(
                cos.tolist(), dtype=fnp.float64, device=dev))
        w = series(None)
        if norm:
            w = w * (1.0 / series([(m - 1) / 2])[0])
        return w
    return _window(name, M, sym, (sll,), device, make)


def dpss(M, NW, Kmax=None, sym=True, norm=None, return_ratios=False, *, device=None):
    """The discrete prolate spheroidal (Slepian) sequences of half bandwidth ``NW``: the
    first one (``Kmax=None``) or the first ``Kmax`` as rows, with SciPy's signs and norms
    (``norm``: 2, 'approximate' or 'subsample'; default 'approximate' for one window, 2
    for several) and, with ``return_ratios``, their concentration ratios, as
    ``scipy.signal.windows.dpss``. Computed on the host (the eigenvectors of SciPy's
    tridiagonal matrix through ``numpy.linalg.eigh``: O(M**3); concrete parameters; no
    derivative)."""
    name = "dpss"
    M = _length(M, name)
    sym = _sym_check(sym, name)
    if norm is None:
        norm = "approximate" if Kmax is None else 2
    if norm not in (2, "approximate", "subsample"):
        raise ValueError(f"{name}: norm must be one of (2, 'approximate', 'subsample'); got "
                         f"{norm!r}")
    single = Kmax is None
    kmax = 1 if single else operator.index(Kmax)
    dev = _where_to((), device)
    if M <= 1:
        ones = _ones(M, dev)
        if not return_ratios:
            return ones
        return (ones, 1.0) if single else (ones, _ones(1, dev))
    nw = _static(NW, "NW", name)
    if not 0 < kmax <= M:
        raise ValueError(f"{name}: Kmax must be greater than 0 and less than M; got {kmax}")
    if nw >= M / 2.0:
        raise ValueError(f"{name}: NW must be less than M/2; got {nw}")
    if nw <= 0:
        raise ValueError(f"{name}: NW must be positive; got {nw}")
    m = M if sym else M + 1
    bw = nw / m
    n = _np.arange(m, dtype=_np.float64)
    # the symmetric tridiagonal matrix commuting with the time-and-band limiting operator
    # (its eigenvectors are the sequences, the largest eigenvalues first)
    t = _np.diag(((m - 1 - 2 * n) / 2.0) ** 2 * math.cos(2 * math.pi * bw))
    off = n[1:] * (m - n[1:]) / 2.0
    t[_np.arange(1, m), _np.arange(m - 1)] = off
    t[_np.arange(m - 1), _np.arange(1, m)] = off
    vecs = _np.linalg.eigh(t)[1][:, ::-1][:, :kmax].T.copy()
    for i in range(0, kmax, 2):  # even sequences: positive sum
        if vecs[i].sum() < 0:
            vecs[i] *= -1
    thresh = max(1e-7, 1.0 / m)
    for i in range(1, kmax, 2):  # odd ones: start positive (first non-negligible value)
        v = vecs[i]
        if v[v * v > thresh][0] < 0:
            vecs[i] *= -1
    ratios = None
    if return_ratios:
        size = 2 * m
        f = _np.fft.rfft(vecs, size, axis=-1)
        rxx = _np.fft.irfft(f * f.conj(), n=size, axis=-1)[:, :m]
        r = 4 * bw * _np.sinc(2 * bw * n)
        r[0] = 2 * bw
        ratios = rxx @ r
    if norm != 2:
        vecs /= vecs.max()
        if m % 2 == 0:
            if norm == "approximate":
                vecs *= m ** 2 / float(m ** 2 + nw)
            else:
                s = _np.fft.rfft(vecs[0])
                shift = -(1 - 1.0 / m) * _np.arange(1, m // 2 + 1)
                s[1:] *= 2 * _np.exp(-1j * _np.pi * shift)
                vecs *= m / s.real.sum()
    if not sym:
        vecs = vecs[:, :-1]
    out = _from_host(vecs[0] if single else vecs, dev)
    if not return_ratios:
        return out
    return out, (float(ratios[0]) if single else _from_host(ratios, dev))


# -- get_window -------------------------------------------------------------------------------

# name -> (function, parameters: True required, False none, None optional)
_BY_NAME = {}
for _names, _entry in (
        (("barthann", "brthan", "bth"), (barthann, False)),
        (("bartlett", "bart", "brt"), (bartlett, False)),
        (("blackman", "black", "blk"), (blackman, False)),
        (("blackmanharris", "blackharr", "bkh"), (blackmanharris, False)),
        (("bohman", "bman", "bmn"), (bohman, False)),
        (("boxcar", "box", "ones", "rect", "rectangular"), (boxcar, False)),
        (("chebwin", "cheb"), (chebwin, True)),
        (("cosine", "halfcosine"), (cosine, False)),
        (("dpss",), (dpss, True)),
        (("exponential", "poisson"), (exponential, None)),
        (("flattop", "flat", "flt"), (flattop, False)),
        (("gaussian", "gauss", "gss"), (gaussian, True)),
        (("general cosine", "general_cosine"), (general_cosine, True)),
        (("general gaussian", "general_gaussian", "general gauss", "general_gauss", "ggs"),
         (general_gaussian, True)),
        (("general hamming", "general_hamming"), (general_hamming, True)),
        (("hamming", "hamm", "ham"), (hamming, False)),
        (("hann", "han"), (hann, False)),
        (("kaiser", "ksr"), (kaiser, True)),
        (("kaiser bessel derived", "kaiser_bessel_derived", "kbd"),
         (kaiser_bessel_derived, True)),
        (("lanczos", "sinc"), (lanczos, False)),
        (("nuttall", "nutl", "nut"), (nuttall, False)),
        (("parzen", "parz", "par"), (parzen, False)),
        (("taylor", "taylorwin"), (taylor, None)),
        (("triangle", "triang", "tri"), (triang, False)),
        (("tukey", "tuk"), (tukey, None))):
    for _n in _names:
        _BY_NAME[_n] = _entry
del _names, _entry, _n


def get_window(window, Nx, fftbins=True, *, device=None):
    """The window ``window`` of ``Nx`` points, as ``scipy.signal.get_window``: periodic (for
    spectral analysis, ``fftbins=True``, the default) or symmetric (``fftbins=False``; a
    name's suffix '_periodic' or '_symmetric' overrides ``fftbins``), float64.

    ``window`` is a name (SciPy's names and aliases: 'hann', 'flattop', 'parzen'...), a
    tuple of a name and its parameters (``('kaiser', 8.0)``, ``('tukey', 0.25)``,
    ``('gaussian', 7)``, ``('general_gaussian', 1.5, 7)``, ``('general_cosine', [...])``,
    ``('exponential', center, tau)``, ``('taylor', nbar, sll)``, ``('chebwin', 100)``,
    ``('dpss', 3)``...) or a number (the ``kaiser`` window's ``beta``). The parameters may be
    traced (the windows differentiable in them are listed in
    :mod:`functrans.scipy.signal.windows`)."""
    name = "get_window"
    if isinstance(Nx, bool) or not isinstance(Nx, (int, _np.integer)) or Nx < 1:
        raise ValueError(f"{name}: Nx must be a positive integer; got {Nx!r}.")
    if not isinstance(fftbins, (bool, _np.bool_)):
        raise ValueError(f"{name}: fftbins must be True or False; got {fftbins!r}.")
    Nx = int(Nx)
    if not isinstance(window, (str, tuple)):
        if isinstance(window, bool) or (_is_array(window) and window.ndim != 0):
            raise ValueError(f"{name}: window must be a name, a tuple of a name and its "
                             f"parameters, or a number (kaiser's beta); got {window!r}.")
        try:
            beta = window if _is_array(window) else float(window)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: window must be a name, a tuple of a name and its "
                             f"parameters, or a number (kaiser's beta); got {window!r}."
                             ) from None
        return kaiser(Nx, beta, not fftbins, device=device)
    if isinstance(window, tuple) and (not window or not isinstance(window[0], str)):
        raise ValueError(f"{name}: a window tuple starts with the window's name; got "
                         f"{window!r}.")
    label = window if isinstance(window, str) else window[0]
    args = () if isinstance(window, str) else window[1:]
    sym = not fftbins
    for suffix, s in (("_symmetric", True), ("_periodic", False)):
        if label.endswith(suffix):
            label, sym = label[: -len(suffix)], s
    if label not in _BY_NAME:
        raise ValueError(f"{name}: unknown window name {label!r} in {window!r}; the names are "
                         f"{sorted(_BY_NAME)}.")
    func, takes = _BY_NAME[label]
    if args and takes is False:
        raise ValueError(f"{name}: the window {label!r} has no parameters; got {window!r}.")
    if not args and takes is True:
        raise ValueError(f"{name}: the window {label!r} needs parameters, as "
                         f"({label!r}, ...); got {window!r}.")
    if func is dpss:
        if len(args) != 1:
            raise ValueError(f"{name}: the window 'dpss' takes one parameter (NW); got "
                             f"{window!r}.")
        return dpss(Nx, args[0], sym=sym, device=device)
    return func(Nx, *args, sym=sym, device=device)
