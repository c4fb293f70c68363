"""NumPy's floating-point error state, silenced cheaply.

``np.errstate`` builds its error object on every entry (about 2 us); NumPy >= 2 keeps the
state in a context variable, which ``STATE.set(IGNORE)`` sets to one object made once (about
0.2 us with its ``STATE.reset(token)``). That object holds the error settings and buffer
size of import time; "all ignore" makes its error callback unused. With another NumPy both
are None (the callers use ``np.errstate``). (While set, each NumPy operation costs a little
more, about 0.3 us: exp2 of a scalar, ~10 operations, paid +35 %; session 55.)
"""

from __future__ import annotations

try:
    from numpy._core.umath import _extobj_contextvar as STATE, _make_extobj
    IGNORE = _make_extobj(all="ignore")
except (ImportError, AttributeError, TypeError):
    STATE = IGNORE = None
