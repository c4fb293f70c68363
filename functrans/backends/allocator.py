"""glibc malloc tuning, applied once when functrans is imported (docs/backends.md, "Memory").

Why: an eager call such as ``expit(x)`` on 1e5 float64 points makes several 800 KB NumPy
temporaries and frees them together. glibc serves blocks above ``M_MMAP_THRESHOLD`` (128 KB at
start, raised by the size of the last freed mmapped block) with fresh mmaps, and gives the top
of the heap back to the kernel once more than ``M_TRIM_THRESHOLD`` (twice the mmap threshold)
is free there. Either way the next call touches brand-new pages: about a thousand minor page
faults per call, which cost more than the arithmetic (expit 1e5: 2.9-7.5 ms against SciPy's
one-ufunc 0.55 ms). Raising both thresholds keeps the freed temporaries in the heap, where the
next call reuses them without a fault.

What: on Linux with glibc only, ``mallopt`` sets ``M_MMAP_THRESHOLD`` to 32 MiB (glibc's largest
accepted value on 64-bit) and ``M_TRIM_THRESHOLD`` to 64 MiB. Blocks over 32 MiB are still
mmapped (so one huge array is given back when freed), and up to 64 MiB of free heap top is kept
rather than returned. Setting them turns off glibc's own sliding threshold, as the
``MALLOC_*_`` environment variables do.

Not applied (``tuning()`` says why) when the environment has ``FUNCTRANS_MALLOC_TUNING=0``, when
the user set any ``MALLOC_*`` variable or a ``glibc.malloc`` tunable in ``GLIBC_TUNABLES``
(theirs win), or off glibc (musl, macOS, Windows). It never raises.
"""

import ctypes
import os
import sys

# glibc's <malloc.h> parameter numbers.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

# 32 MiB: glibc's ceiling for M_MMAP_THRESHOLD on 64-bit (HEAP_MAX_SIZE / 2); 16 MiB on 32-bit.
MMAP_THRESHOLD = (32 if ctypes.sizeof(ctypes.c_long) == 8 else 16) * 2**20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD

OPT_OUT_VARIABLE = "FUNCTRANS_MALLOC_TUNING"

_tuning = {"applied": False, "reason": "not yet run", "settings": {}}


def tuning():
    """What the import-time tuning did: ``{"applied": bool, "reason": str, "settings": dict}``.

    ``settings`` maps the mallopt parameter names to the values set (empty when not applied)."""
    return {"applied": _tuning["applied"], "reason": _tuning["reason"],
            "settings": dict(_tuning["settings"])}


def _glibc_mallopt():
    """glibc's ``mallopt``, or None (not Linux, not glibc, or no such symbol)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, ValueError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt


def _user_settings(environ):
    """The user's own allocator settings in ``environ``, which take precedence over ours."""
    names = sorted(k for k in environ if k.startswith("MALLOC_"))
    if "glibc.malloc" in environ.get("GLIBC_TUNABLES", ""):
        names.append("GLIBC_TUNABLES")
    return names


def apply(environ=None, find_mallopt=_glibc_mallopt):
    """Set the thresholds unless opted out; record and return what was done (see ``tuning``).

    Runs once at import; calling it again is harmless (the same values are set)."""
    environ = os.environ if environ is None else environ
    _tuning.update(applied=False, settings={})
    if environ.get(OPT_OUT_VARIABLE, "").strip() == "0":
        _tuning["reason"] = f"{OPT_OUT_VARIABLE}=0 in the environment"
        return tuning()
    user = _user_settings(environ)
    if user:
        _tuning["reason"] = "the user's allocator settings are in the environment: " + ", ".join(user)
        return tuning()
    try:
        mallopt = find_mallopt()
    except Exception:  # a broken libc lookup must never stop functrans from importing
        mallopt = None
    if mallopt is None:
        _tuning["reason"] = "not glibc on Linux (no mallopt)"
        return tuning()
    settings = {}
    for name, param, value in (("M_MMAP_THRESHOLD", M_MMAP_THRESHOLD, MMAP_THRESHOLD),
                               ("M_TRIM_THRESHOLD", M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
        try:
            ok = mallopt(param, value)
        except Exception:
            ok = 0
        if ok == 1:
            settings[name] = value
    _tuning.update(applied=bool(settings), settings=settings,
                   reason="set by mallopt" if len(settings) == 2
                   else "mallopt refused " + ", ".join(
                       n for n in ("M_MMAP_THRESHOLD", "M_TRIM_THRESHOLD") if n not in settings))
    return tuning()


apply()
