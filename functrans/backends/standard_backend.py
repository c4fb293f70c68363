"""A backend made on first sight for any other library that follows the Array API standard.

An array whose library functrans has no backend for, and which array-api-compat recognises
as an Array API array (it has ``__array_namespace__``, or array-api-compat wraps its library:
JAX, Dask, ndonnx, pydata/sparse...), gets a backend built from its namespace: the standard's
dtypes that the namespace has, its devices, and the generic extras of :mod:`.generic` and
:mod:`.special_generic` (written on the standard, as array-api-strict uses them). So code
written for functrans runs and differentiates on such arrays without registering anything;
a registered backend or an entry point of the library's name still comes first (one can add
the library's own special functions, or faster paths)."""

from __future__ import annotations

import warnings

import array_api_compat

from .. import dtypes as _dt
from . import Backend

_STANDARD_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                    "uint64", "float32", "float64", "complex64", "complex128",
                    # beyond the standard, where the library has them (JAX: both)
                    "float16", "bfloat16")


def complex_log1p(xp, compose=None):
    """``log1p`` with complex operands computed accurately near 0, as ``log1p`` is meant to
    be: NumPy's (and so array-api-strict's) is ``log(1 + z)``, whose real part loses
    everything below ``eps``: ``log1p(1e-20 + 1e-23j)`` has real part 0, not 1e-20 (JAX's
    and torch's are right). For ``|re z|, |im z| < 1/2``: real part ``log1p(x (2 + x) +
    y**2) / 2``, imaginary part ``atan2(y, 1 + x)``; elsewhere the library's own.
    ``compose(re, im)``: the library's complex(re, im), where it has one (then ``log(1 + z)``
    elsewhere, as NumPy's, from it too)."""
    complex_dtypes = (xp.complex64, xp.complex128)  # (NumPy's dtypes equal its types)

    def log1p(x):
        if x.dtype not in complex_dtypes:
            return xp.log1p(x)
        re, im = xp.real(x), xp.imag(x)
        near = (xp.abs(re) < 0.5) & (xp.abs(im) < 0.5)
        rs, ims = xp.where(near, re, 0.0), xp.where(near, im, 0.0)
        real = 0.5 * xp.log1p(rs * (2.0 + rs) + ims * ims)
        imag = xp.atan2(ims, 1.0 + rs)
        # real + imag j, the zeros' signs kept (the standard has no complex(re, im)): a zero
        # imag is x's own (x - re), else imag j, added to conj(real), whose imaginary part
        # is -0 (+0 + -0 would be +0)
        if compose is not None:
            # (elsewhere NumPy's log(1 + z), 1 added to the real part alone: torch's log1p
            # gives nan + nan j at inf + nan j, nan + inf j and 1e-300 + inf j, where C99's
            # and NumPy's value is inf + nan j, inf + nan j and inf + pi/2 j)
            return xp.where(near, compose(real, imag), xp.log(compose(1.0 + re, im)))
        c = x.dtype
        j = xp.where(ims == 0, x - xp.astype(re, c), xp.astype(imag, c) * 1j)
        return xp.where(near, xp.conj(xp.astype(real, c)) + j, xp.log1p(x))
    return log1p


class StandardBackend(Backend):
    """A backend of a library reached only through its Array API namespace."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.impls.setdefault("cholesky", self._cholesky_of_lower)

    def _cholesky_of_lower(self, x):
        # functrans's cholesky reads the lower triangle (NumPy's rule); the standard's
        # takes a Hermitian matrix and leaves any other unspecified (JAX's averages it with
        # its transpose), so the library is given the Hermitian matrix of that triangle
        xp = self.xp
        below = xp.tril(x, k=-1)
        above = xp.matrix_transpose(below)
        if xp.isdtype(x.dtype, "complex floating"):
            above = xp.conj(above)
        return xp.linalg.cholesky(xp.tril(x) + above)

    def device(self, x):
        return array_api_compat.device(x)

    def to_device(self, x, device):
        return x if device == self.device(x) else array_api_compat.to_device(x, device)

    def to_numpy(self, x):
        import numpy as np
        try:
            return np.from_dlpack(x)
        except Exception:  # (a library without DLPack, or a device NumPy cannot read)
            return np.asarray(x)


class AtSetBackend(StandardBackend):
    """Arrays that cannot be written in place but take ``x.at[index].set(values)``."""

    writable = False

    def set_items(self, x, index, values):
        return x.at[index].set(values)

    at_add = False  # whether ``x.at[index]`` has ``add`` too (found when the backend is made)

    def load_extra(self, name):
        # ``x.at[index].add(values)`` is such a library's own scatter-add: one operation,
        # where the generic one (sort and a segmented scan) takes a few dozen, each a new
        # compilation on a library that compiles per shape (JAX)
        if name == "scatter_add" and self.at_add:
            return self._at_scatter_add
        return None

    def _at_scatter_add(self, x, index, values, /, *, axis=0):
        parts = tuple(index) if isinstance(index, (tuple, list)) else (index,)
        if not -x.ndim <= axis < x.ndim:
            raise ValueError(f"scatter_add: axis {axis} is out of range for an array of "
                             f"{x.ndim} dimensions")
        axis %= x.ndim
        if axis + len(parts) > x.ndim:
            raise ValueError(f"scatter_add: {len(parts)} index arrays from axis {axis} for an "
                             f"array of shape {tuple(x.shape)}")
        # (adjacent integer arrays after ``axis`` full slices: the values' axes for them
        # stand in their place, as the contract's shape of ``values`` says)
        return x.at[(slice(None),) * axis + parts].add(values)


class ReadOnlyBackend(StandardBackend):
    """Arrays that cannot be written in place, with no other way known here: the few
    operations that place values into a new array (the transposes of slicing and of the
    diagonal) raise; the rest works."""

    writable = False

    def set_items(self, x, index, values):
        from ..errors import UnsupportedBackendError
        raise UnsupportedBackendError(
            f"Backend {self.name!r}: its arrays cannot be written (x[index] = v), which this "
            f"operation needs to place values into a new array, and they have no "
            f"x.at[index].set(v) either. Register a backend for the library that overrides "
            f"Backend.set_items (see docs/backends.md).")


def library_name(xp, t: type) -> str:
    """The library's name: the top-level module of its namespace (``jax`` for jax.numpy,
    ``dask`` for array-api-compat's wrapper of dask.array), else of the array type."""
    name = getattr(xp, "__name__", "") or t.__module__
    return name.removeprefix("array_api_compat.").split(".")[0]


def backend_for(t: type, x) -> Backend | None:
    """A new backend for ``x`` (of type ``t``) if it is an Array API array of a library with
    no backend yet, else None. Named by :func:`library_name`."""
    if not array_api_compat.is_array_api_obj(x):
        return None
    try:
        xp = array_api_compat.array_namespace(x)
    except TypeError:
        return None
    pairs = []
    seen = []  # the dtypes the arrays of the names taken so far carry
    for name in _STANDARD_DTYPES:
        native = getattr(xp, name, None)
        if native is None:
            continue
        try:  # the dtype objects the library's arrays carry, and the namespace's own name
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # (JAX warns where it narrows the dtype)
                carried = xp.zeros((), dtype=native).dtype
        except Exception:
            continue
        pairs.append((native, _dt.BY_NAME[name]))
        # (a dtype the library narrows to one taken already, as JAX without x64 makes
        # float64 arrays float32: asking for it gives what the library gives, but the
        # arrays' dtype keeps its own name; the NumPy dtype objects JAX shares included)
        if carried is not native and not any(carried == c for c in seen):
            pairs.append((carried, _dt.BY_NAME[name]))
        seen.append(carried)
    if not pairs:
        return None
    cls = StandardBackend
    probe = xp.zeros(1, dtype=pairs[0][0])
    try:
        probe[0] = probe[0]
    except Exception:  # arrays that cannot be written: JAX's offer x.at[i].set(v) instead
        cls = AtSetBackend if hasattr(probe, "at") else ReadOnlyBackend
    b = cls(library_name(xp, t), xp, [t], pairs)
    if cls is AtSetBackend:
        try:
            b.at_add = callable(getattr(probe.at[0], "add", None))
        except Exception:
            pass
    b.device_types = (type(b.device(x)),) if b.device(x) is not None else ()
    return b
