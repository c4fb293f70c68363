"""``functrans.scipy.cluster.vq``: vector quantization (``vq``: the nearest code of each
observation), as SciPy's and ``jax.scipy.cluster.vq``'s, on every backend."""

from __future__ import annotations

from ... import numpy as fnp
from ...numpy._mathematics import _operand

__all__ = ["vq"]


def vq(obs, code_book, check_finite=True):
    """The index of the nearest code of ``code_book`` (``(k, n)``, or ``(k,)`` for scalar
    features) for each observation of ``obs`` (``(m, n)`` or ``(m,)``), and its Euclidean
    distance: ``(code, dist)``, as ``scipy.cluster.vq.vq``. Ties go to the first code.

    The codes are int32 for floating input and int64 for integer input, as SciPy's; the
    distances are differentiable in ``obs`` and ``code_book`` (through the chosen code), with
    derivative 0 where an observation lies on its code (JAX's is nan there, and the nan
    reaches every other observation's gradient through reverse mode).
    Differences from SciPy: ``check_finite`` is accepted and ignored (non-finite entries
    propagate instead of raising ValueError), as in JAX."""
    name = "functrans.scipy.cluster.vq.vq"
    obs, code_book = _operand(obs), _operand(code_book)
    if not hasattr(obs, "shape"):
        obs = fnp.asarray(obs)
    if not hasattr(code_book, "shape"):
        code_book = fnp.asarray(code_book)
    if obs.ndim != code_book.ndim:
        raise ValueError(f"{name}: observation and code should have same number of "
                         f"dimensions; got {obs.ndim} and {code_book.ndim}")
    if obs.ndim not in (1, 2):
        raise ValueError(f"{name}: obs and code_book must be 1- or 2-dimensional; got "
                         f"{obs.ndim} dimensions")
    integral = not fnp.isdtype(obs.dtype, ("real floating", "complex floating")) and \
        not fnp.isdtype(code_book.dtype, ("real floating", "complex floating"))
    if obs.ndim == 1:
        obs, code_book = obs[:, None], code_book[:, None]
    elif obs.shape[1] != code_book.shape[1]:
        raise ValueError(f"{name}: obs and code should have same number of features "
                         f"(columns); got {obs.shape[1]} and {code_book.shape[1]}")
    dt = fnp.result_type(obs, code_book, fnp.float32) if not integral else fnp.float64
    obs, code_book = fnp.astype(obs, dt), fnp.astype(code_book, dt)
    diff = fnp.subtract(obs[:, None, :], code_book[None, :, :])
    d2 = fnp.sum(fnp.multiply(diff, diff), axis=-1)
    code = fnp.argmin(fnp.stop_gradient(d2), axis=1)
    chosen = fnp.take(code_book, code, axis=0)
    gap = fnp.subtract(obs, chosen)
    sq = fnp.sum(fnp.multiply(gap, gap), axis=-1)
    # the square root with derivative 0 (not nan) at a distance of 0: an observation on its
    # code would otherwise make the whole gradient nan (its zero cotangent times 0/0)
    pos = fnp.greater(sq, 0.0)
    dist = fnp.where(pos, fnp.sqrt(fnp.where(pos, sq, fnp.ones_like(sq))), fnp.zeros_like(sq))
    return fnp.astype(code, fnp.int64 if integral else fnp.int32), dist
