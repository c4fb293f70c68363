"""autograd's ``autograd.builtins``: in functrans tuples, lists and dicts are plain pytrees,
so Python's own ``tuple``, ``list``, ``dict``, ``isinstance`` and ``type`` are what these
names are. Code that builds containers of traced values with ``autograd.builtins.tuple(...)``
(or checks ``isinstance(x, autograd.builtins.list)``) runs unchanged; differentiating with
respect to a tuple/list/dict argument gives a tuple/list/dict of gradients.

``SequenceBox`` and ``DictBox`` (autograd's boxes of traced tuples/lists and dicts) exist
for ``isinstance`` checks, which are always false: functrans never wraps a container, a
tuple of traced values is a tuple."""

import builtins as _builtins

from .tracer import Box

tuple = _builtins.tuple
list = _builtins.list
dict = _builtins.dict
isinstance = _builtins.isinstance
type = _builtins.type



class SequenceBox(Box):
    """autograd's box of a traced tuple or list; no value is one in functrans."""

    __slots__ = ()


class DictBox(Box):
    """autograd's box of a traced dict; no value is one in functrans."""

    __slots__ = ()


__all__ = ["tuple", "list", "dict", "isinstance", "type", "SequenceBox", "DictBox"]
