"""Griffe extension for the API reference (mkdocs.yml: ``extensions``).

Runtime inspection lists the attributes Python sets on modules and classes (``__file__``,
``__doc__``, ``__module__``, ``__weakref__``...) as members; they are marked not public, so
the pages filtered by ``public`` (a module's ``__all__``) leave them out. Special methods
(``__call__``, ``__mul__``...) stay.
"""

from __future__ import annotations

import griffe


class HideDunderAttributes(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.is_attribute and obj.name.startswith("__") and obj.name.endswith("__"):
            obj.public = False
