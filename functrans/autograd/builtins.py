"""autograd's ``autograd.builtins``: in functrans tuples, lists and dicts are plain pytrees,
so Python's own ``tuple``, ``list``, ``dict``, ``isinstance`` and ``type`` are what these
names are. Code that builds containers of traced values with ``autograd.builtins.tuple(...)``
(or checks ``isinstance(x, autograd.builtins.list)``) runs unchanged; differentiating with
respect to a tuple/list/dict argument gives a tuple/list/dict of gradients."""

import builtins as _builtins

tuple = _builtins.tuple
list = _builtins.list
dict = _builtins.dict
isinstance = _builtins.isinstance
type = _builtins.type

__all__ = ["tuple", "list", "dict", "isinstance", "type"]
