"""Pytrees, through optree: nested tuples, lists, dicts, namedtuples, None, and classes
registered with :func:`register_pytree_node` (or ``optree.register_pytree_node`` with
``namespace="functrans"``)."""

import builtins
import functools
import math
import typing

import optree

NAMESPACE = "functrans"


_MISSING = object()


try:  # optree's C flattening itself: tree_flatten is on every transform's path
    _flatten = optree._C.flatten
    _flatten([1, (2,)], None, False, NAMESPACE)  # the signature of this optree version
except Exception:  # pragma: no cover  (an optree without it, or another signature)
    def _flatten(tree, is_leaf, none_is_leaf, namespace):
        return optree.tree_flatten(tree, is_leaf, none_is_leaf=none_is_leaf,
                                   namespace=namespace)


# optree's C calls cost about a microsecond each even for one array (``flatten(x)``,
# ``spec.unflatten([x])``), which is a tenth of a small ``grad`` call: the commonest trees —
# one leaf, a tuple or list of leaves, an empty dict (no keyword arguments) — take a short
# path with a structure made once. A type is a leaf here once optree has given one of its
# values as a leaf (whether a type is a node depends on its type and the registry only) and
# while neither the global nor functrans's namespace registers it (looked up in optree's
# registry each time: a type registered later is a node at once).
try:
    from optree.registry import _NODETYPE_REGISTRY as _REGISTERED
    if not isinstance(_REGISTERED, dict):  # pragma: no cover  (another optree)
        raise ImportError
except ImportError:  # pragma: no cover  (no short paths then)
    _REGISTERED = None
_LEAF_TYPES: set = set()
_LEAF_SPEC = _flatten(0.0, None, False, NAMESPACE)[1]
_SEQ_SPECS: dict = {}   # (tuple or list, n) -> the structure of n leaves in one
_SPEC_SIZE: dict = {}   # id(structure) -> (its container type or None for a leaf, n)
_SPEC_SIZE[id(_LEAF_SPEC)] = (None, 1)
_EMPTY_DICT = _flatten({}, None, False, NAMESPACE)
_SPEC_SIZE[id(_EMPTY_DICT[1])] = (dict, 0)
_NONE_SPEC = _flatten(None, None, False, NAMESPACE)[1]
_NoneType = type(None)
_SPEC_SIZE[id(_NONE_SPEC)] = (_NoneType, 0)


def _is_leaf_type(t):
    return t in _LEAF_TYPES and t not in _REGISTERED and (NAMESPACE, t) not in _REGISTERED


def tree_flatten(tree, is_leaf=None):
    """The leaves of ``tree`` and its structure: ``(leaves, treedef)``; ``is_leaf(node)``
    true stops the flattening at ``node`` (it becomes a leaf), as in ``jax.tree_util``."""
    t = type(tree)
    if is_leaf is None:
        if t in _LEAF_TYPES and t not in _REGISTERED and (NAMESPACE, t) not in _REGISTERED:
            return [tree], _LEAF_SPEC  # (_is_leaf_type inline)
        if t is tuple or t is list:
            if _REGISTERED is not None:
                for x in tree:
                    u = type(x)  # (_is_leaf_type inline: a frame per leaf)
                    if not (u in _LEAF_TYPES and u not in _REGISTERED
                            and (NAMESPACE, u) not in _REGISTERED):
                        break
                else:
                    spec = _SEQ_SPECS.get((t, len(tree)))
                    if spec is not None:
                        return list(tree), spec
                    leaves, spec = _flatten(tree, None, False, NAMESPACE)
                    if len(leaves) == len(tree) and len(_SEQ_SPECS) < 64:
                        _SEQ_SPECS[t, len(tree)] = spec
                        _SPEC_SIZE[id(spec)] = (t, len(tree))
                    return leaves, spec
        elif t is dict and not tree:
            return [], _EMPTY_DICT[1]
        elif tree is None:
            return [], _NONE_SPEC
        leaves, spec = _flatten(tree, None, False, NAMESPACE)
        if _REGISTERED is not None and len(leaves) <= 16 and len(_LEAF_TYPES) < 256:
            # (a leaf's type is no node; bounded: classes made on the fly, few are kept alive)
            _LEAF_TYPES.update(builtins.map(type, leaves))
        return leaves, spec
    return _flatten(tree, is_leaf, False, NAMESPACE)


def tree_unflatten(treedef, leaves):
    """The pytree of structure ``treedef`` with ``leaves`` in flattening order."""
    known = _SPEC_SIZE.get(id(treedef))
    if known is not None and type(leaves) is list and len(leaves) == known[1]:
        t = known[0]
        return (leaves[0] if t is None else {} if t is dict else None if t is _NoneType
                else t(leaves))
    return treedef.unflatten(leaves)


def tree_map(f, tree, *rest, is_leaf=None):
    """The pytree of ``f(leaf, *corresponding leaves of rest)``: each of ``rest`` has
    ``tree``'s structure (or ``tree``'s leaves as subtrees' roots); ``is_leaf(node)`` true
    treats ``node`` as a leaf (``jax.tree_util.tree_map``). Where one of ``rest`` differs,
    the ValueError names the path to the first difference."""
    # (no short path for a leaf here: ``f`` must be called from optree's frame, as for every
    # other tree — functrans.numpy's creation functions give constants to calls from
    # frames outside functrans, and a short path from this frame made them plain arrays for
    # one-leaf trees only, which broke functrans's own solvers on array-api-strict)
    try:
        return optree.tree_map(f, tree, *rest, is_leaf=is_leaf, namespace=NAMESPACE)
    except ValueError:
        if not rest:
            raise
        treedef = tree_structure(tree, is_leaf)
        for i, r in enumerate(rest):
            _up_to(treedef, r, "tree_map", i + 1)  # (raises, naming where r differs)
        raise


def _up_to(treedef, tree, name, i):
    """``treedef.flatten_up_to(tree)``, its ValueError naming where ``tree`` differs."""
    try:
        return treedef.flatten_up_to(tree)
    except ValueError as e:
        raise ValueError(f"{name}: tree {i} differs from tree 0 "
                         f"{_structure_difference(treedef, tree)} (tree 0's structure: "
                         f"{treedef}).") from e


def _structure_difference(treedef, tree, prefix=""):
    """Where ``tree`` first departs from the structure ``treedef`` (whose leaves stand for
    any subtree), as text: ``at ['b'][1]: list arity mismatch...``, the path written after
    ``prefix``; ``""`` where ``tree`` has the structure. For error messages (``tree_map``'s,
    ``tree_broadcast``'s)."""
    found = _first_difference(treedef, tree)
    if found is None:
        return ""
    path, error = found
    where = prefix + keystr(path) if prefix or path else "the root"
    return f"at {where}: {str(error).rstrip('.')}"


def _first_difference(treedef, tree):
    """``(path, ValueError)``: the path (a tuple of keys) where ``tree`` first departs from
    the structure ``treedef``, and optree's error for that node; None if it does not."""
    path, spec, node = [], treedef, tree
    while not spec.is_leaf():
        level = spec.one_level()
        try:
            children = level.flatten_up_to(node)
        except ValueError as e:
            return tuple(path), e
        for child_spec, child, acc in zip(spec.children(), children, level.accessors()):
            if _has_difference(child_spec, child):
                path.append(_key_of(acc[0]))
                spec, node = child_spec, child
                break
        else:
            break
    return None


def _treedef_difference(a, b):
    """The first place where the structures ``a`` and ``b`` differ: ``(path, a_part, b_part)``
    with the path a tuple of keys (as in paths) and the parts the one-level structures found
    there (a leaf as ``*``), or None where ``a == b``."""
    path = []
    while a != b:
        if a.is_leaf() or b.is_leaf() or a.one_level() != b.one_level():
            return (tuple(path), a if a.is_leaf() else a.one_level(),
                    b if b.is_leaf() else b.one_level())
        for ca, cb, acc in zip(a.children(), b.children(), a.one_level().accessors()):
            if ca != cb:
                path.append(_key_of(acc[0]))
                a, b = ca, cb
                break
        else:  # (equal children under equal nodes: equal)
            return None
    return None


def _where_differ(a, b, names):
    """For an error about two structures: '; they differ at <path>: <names[0]> <part of a>
    against <names[1]> <part of b>', or '' where they are equal."""
    found = _treedef_difference(a, b)
    if found is None:
        return ""
    path, pa, pb = found
    return (f"; they differ at {keystr(path) or 'the root'}: {names[0]} {pa} against "
            f"{names[1]} {pb}")


def _has_difference(spec, tree):
    try:
        spec.flatten_up_to(tree)
    except ValueError:
        return True
    return False


def tree_structure(tree, is_leaf=None):
    """The structure (treedef) of ``tree``, leaves as ``is_leaf`` says."""
    return optree.tree_structure(tree, is_leaf, namespace=NAMESPACE)


def register_pytree_node(cls, flatten, unflatten, flatten_with_keys=None):
    """Register ``cls`` as a pytree node: ``flatten(obj) -> (children, aux)`` and
    ``unflatten(aux, children) -> obj``. ``flatten_with_keys(obj) -> (((key, child), ...),
    aux)``, if given, names the children in paths (``tree_flatten_with_path``); otherwise
    they are numbered."""
    if flatten_with_keys is None:
        def flat(o):
            out = flatten(o)
            if type(out) is tuple and len(out) == 2 and type(out[0]) in (tuple, list):
                return out
            return _checked(cls, out, "flatten", "(children, aux_data)")
    else:
        def flat(o):
            pairs, aux = _checked(cls, flatten_with_keys(o), "flatten_with_keys",
                                  "(((key, child), ...), aux_data)")
            pairs = list(pairs)
            return [c for _, c in pairs], aux, [k for k, _ in pairs]
    return optree.register_pytree_node(
        cls, flat, lambda aux, ch: unflatten(aux, ch), namespace=NAMESPACE)


def _checked(cls, out, what, form):
    """The output of a registered flatten function, or a ValueError saying what is wrong."""
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError(f"The {what} function registered for {cls.__name__} should return "
                         f"a {form} tuple; got {out!r}.")
    try:
        iter(out[0])
    except TypeError:
        raise ValueError(f"The {what} function registered for {cls.__name__} should return "
                         f"a {form} tuple whose first item is iterable; got {out!r}.") from None
    return out


def register_pytree_with_keys(cls, flatten_with_keys, unflatten, flatten=None):
    """Register ``cls`` with ``flatten_with_keys(obj) -> (((key, child), ...), aux)`` naming
    its children in paths, and ``unflatten(aux, children) -> obj``
    (``jax.tree_util.register_pytree_with_keys``; ``flatten`` is accepted and unused)."""
    return register_pytree_node(cls, None, unflatten, flatten_with_keys)


def register_pytree_node_class(cls):
    """Class decorator: register ``cls`` as a pytree node by its own methods
    ``obj.tree_flatten() -> (children, aux)`` and the classmethod
    ``cls.tree_unflatten(aux, children)``; returns ``cls``."""
    register_pytree_node(cls, lambda o: o.tree_flatten(), cls.tree_unflatten)
    return cls


def register_pytree_with_keys_class(cls):
    """Class decorator: as :func:`register_pytree_node_class`, with the method
    ``obj.tree_flatten_with_keys() -> (((key, child), ...), aux)`` naming the children."""
    register_pytree_with_keys(cls, lambda o: o.tree_flatten_with_keys(), cls.tree_unflatten)
    return cls


class _FieldName(str):
    """A dataclass field's name in a path: equal to the plain string; :func:`keystr` writes
    it as an attribute (``.name``)."""

    __slots__ = ()


def register_dataclass(nodetype=None, data_fields=None, meta_fields=None, drop_fields=()):
    """Register the dataclass ``nodetype`` as a pytree node (``jax.tree_util.
    register_dataclass``): the ``data_fields`` are its children (named by the field in
    paths), the ``meta_fields`` its static part (hashable values compared for equality, as a
    treedef's), ``drop_fields`` neither (fields without ``init``). With neither list given,
    the fields marked ``dataclasses.field(metadata=dict(static=True))`` are meta and the other
    ``init`` fields data. Returns ``nodetype``; usable as a decorator, bare or called with
    the lists only (``functools.partial`` style)."""
    import dataclasses
    if nodetype is None:
        return lambda cls: register_dataclass(cls, data_fields, meta_fields, drop_fields)
    if data_fields is None and meta_fields is None:
        if not dataclasses.is_dataclass(nodetype):
            raise TypeError(f"register_dataclass: {nodetype.__name__} is not a dataclass; "
                            f"pass data_fields and meta_fields.")
        fields = [f for f in dataclasses.fields(nodetype) if f.init and
                  f.name not in drop_fields]
        meta_fields = [f.name for f in fields if f.metadata.get("static", False)]
        data_fields = [f.name for f in fields if not f.metadata.get("static", False)]
    elif data_fields is None or meta_fields is None:
        raise TypeError("register_dataclass: give both data_fields and meta_fields, or "
                        "neither (then they are read from the dataclass's fields).")
    data_fields, meta_fields = tuple(data_fields), tuple(meta_fields)
    if dataclasses.is_dataclass(nodetype):
        init = {f.name for f in dataclasses.fields(nodetype) if f.init}
        missing = init - set(data_fields) - set(meta_fields) - set(drop_fields)
        if missing:
            raise ValueError(f"register_dataclass: the fields {sorted(missing)} of "
                             f"{nodetype.__name__} are in neither data_fields nor "
                             f"meta_fields nor drop_fields.")

    names = [_FieldName(n) for n in data_fields]

    def flatten(o):
        return ([getattr(o, n) for n in data_fields],
                tuple(getattr(o, n) for n in meta_fields), names)

    def unflatten(aux, children):
        return nodetype(**dict(zip(meta_fields, aux)), **dict(zip(data_fields, children)))
    optree.register_pytree_node(nodetype, flatten, unflatten, namespace=NAMESPACE)
    return nodetype


def register_static(cls):
    """Register ``cls`` as a pytree node without children: its instances are part of the
    structure (hashable, compared for equality), never leaves; returns ``cls``."""
    optree.register_pytree_node(cls, lambda o: ((), o), lambda aux, _: aux,
                                namespace=NAMESPACE)
    return cls


class _Wrapped:
    """A ``functools.partial`` given to :class:`Partial` as its function, kept whole: its
    bound values stay inside it (static, not leaves), compared by identity."""

    __slots__ = ("partial",)

    def __init__(self, partial):
        self.partial = partial

    def __call__(self, *args, **kw):
        return self.partial(*args, **kw)

    def __getattr__(self, name):  # .func, .args, .keywords of the wrapped partial
        return getattr(self.partial, name)

    def __eq__(self, other):
        other = other.partial if isinstance(other, _Wrapped) else other
        return self.partial is other

    def __hash__(self):
        return id(self.partial)

    def __repr__(self):
        return repr(self.partial)


class Partial(functools.partial):
    """``functools.partial`` as a pytree (``jax.tree_util.Partial``): the bound positional
    and keyword arguments are its children, the function is static; so a function closed
    over arrays passes through ``jit``, ``vmap`` and ``tree_map`` as an argument. A
    ``functools.partial`` (or ``Partial``) given as the function is static as a whole, as in
    JAX: only the outer call's arguments are children."""

    def __new__(cls, func, *args, **kw):
        if isinstance(func, functools.partial):  # not merged into this one (Python would)
            func = _Wrapped(func)
        return super().__new__(cls, func, *args, **kw)


register_pytree_node(Partial, lambda p: ((p.args, p.keywords), p.func),
                     lambda func, ch: Partial(func, *ch[0], **ch[1]))


def tree_leaves(tree, is_leaf=None):
    """The leaves of ``tree`` in flattening order."""
    return optree.tree_leaves(tree, is_leaf, namespace=NAMESPACE)


# -- paths: jax.tree_util's key objects ---------------------------------------------------------

class _Key:
    """A step of a path, holding its key or index in the attribute ``_attr`` (JAX's name)
    and written by ``_text``. It compares (and hashes) equal to its bare key too, so a path
    also reads as the tuple of plain keys and indices (``("a", 0) == (DictKey("a"),
    SequenceKey(0))``)."""

    __slots__ = ()
    _attr = _text = ""

    def __init__(self, value):
        setattr(self, self._attr, value)

    def _bare(self):
        return getattr(self, self._attr)

    def __eq__(self, other):
        if isinstance(other, _Key):
            return type(other) is type(self) and other._bare() == self._bare()
        return self._bare() == other

    def __hash__(self):
        return hash(self._bare())

    def __repr__(self):
        return f"{type(self).__name__}({self._bare()!r})"

    def __str__(self):
        return self._text.format(self._bare())


class DictKey(_Key):
    """A dict's key in a path (``jax.tree_util.DictKey``): ``.key``; written ``['a']``."""

    __slots__ = ("key",)
    _attr, _text = "key", "[{!r}]"


class SequenceKey(_Key):
    """A list's or tuple's index in a path (``jax.tree_util.SequenceKey``): ``.idx``;
    written ``[0]``."""

    __slots__ = ("idx",)
    _attr, _text = "idx", "[{!r}]"


class GetAttrKey(_Key):
    """An attribute in a path, of a namedtuple or a dataclass (``jax.tree_util.GetAttrKey``):
    ``.name``; written ``.w``."""

    __slots__ = ("name",)
    _attr, _text = "name", ".{}"


class FlattenedIndexKey(_Key):
    """The position of a child of a registered node that names none
    (``jax.tree_util.FlattenedIndexKey``): ``.key``; written ``[<flat index 0>]``."""

    __slots__ = ("key",)
    _attr, _text = "key", "[<flat index {}>]"


def _key_of(entry):
    """jax.tree_util's key for one of optree's path entries."""
    if isinstance(entry, optree.MappingEntry):
        return DictKey(entry.entry)
    if isinstance(entry, (optree.NamedTupleEntry, optree.DataclassEntry)):
        return GetAttrKey(str(entry.field))
    if isinstance(entry, optree.SequenceEntry):
        return SequenceKey(entry.entry)
    key = entry.entry
    if isinstance(key, _Key):  # named by a flatten_with_keys
        return key
    if isinstance(key, _FieldName):
        return GetAttrKey(str(key))
    if type(key) is int:
        return FlattenedIndexKey(key)
    return key  # another key a flatten_with_keys gave: itself


def tree_flatten_with_path(tree, is_leaf=None, is_leaf_takes_path=False):
    """``([(path, leaf), ...], treedef)`` (``jax.tree_util.tree_flatten_with_path``): each
    path a tuple of jax.tree_util's keys: :class:`DictKey` for dicts, :class:`SequenceKey`
    for lists and tuples, :class:`GetAttrKey` for namedtuples and dataclasses,
    :class:`FlattenedIndexKey` for registered nodes that name no children, and the keys a
    ``flatten_with_keys`` gives. Each key also compares equal to its bare key or index.
    With ``is_leaf_takes_path=True``, ``is_leaf(path, node)`` is asked with the node's path."""
    if is_leaf_takes_path and is_leaf is not None:
        return _flatten_with_path_leaf(tree, is_leaf)
    accessors, leaves, treedef = optree.tree_flatten_with_accessor(tree, is_leaf,
                                                                   namespace=NAMESPACE)
    paths = [tuple(_key_of(e) for e in a) for a in accessors]
    return list(zip(paths, leaves)), treedef


class _Stop:
    """A placeholder leaf, where ``is_leaf(path, node)`` stopped the flattening."""

    __slots__ = ()


def _flatten_with_path_leaf(tree, is_leaf):
    """tree_flatten_with_path for an ``is_leaf`` that takes the path: a walk down the tree,
    the structure read from a copy with placeholders where it stopped."""
    import copy
    pairs = []

    def walk(node, path):
        if is_leaf(path, node):
            pairs.append((path, node))
            return _Stop()
        try:
            level = optree.tree_flatten_one_level(node, namespace=NAMESPACE)
        except ValueError:  # a leaf
            pairs.append((path, node))
            return _Stop()
        spec = optree.tree_structure(node, lambda x: x is not node, namespace=NAMESPACE)
        keys = [_key_of(a[0]) for a in spec.accessors()]
        children = [walk(c, path + (k,)) for c, k in zip(level.children, keys)]
        if isinstance(node, dict):  # (in its own key order, which unflattening keeps)
            out = copy.copy(node)
            out.update(zip(level.entries, children))
            return out
        return level.unflatten_func(level.metadata, children)
    treedef = tree_structure(walk(tree, ()))
    return pairs, treedef


def tree_map_with_path(f, tree, *rest, is_leaf=None, is_leaf_takes_path=False):
    """``tree_map`` with each leaf's path (see :func:`tree_flatten_with_path`) as ``f``'s
    first argument (``is_leaf(path, node)`` with ``is_leaf_takes_path=True``)."""
    pairs, treedef = tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)
    others = [_up_to(treedef, r, "tree_map_with_path", i + 1) for i, r in enumerate(rest)]
    return treedef.unflatten([f(p, x, *xs) for (p, x), *xs in zip(pairs, *others)])


def tree_leaves_with_path(tree, is_leaf=None, is_leaf_takes_path=False):
    """``[(path, leaf), ...]`` in flattening order (see :func:`tree_flatten_with_path`)."""
    return tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)[0]


def keystr(keys, *, simple=False, separator=""):
    """A path as text, as ``jax.tree_util.keystr``: ``['a'][0].w`` for ``(DictKey('a'),
    SequenceKey(0), GetAttrKey('w'))``; ``simple=True`` joins the bare keys with
    ``separator`` (``a/0/w`` with ``"/"``)."""
    if simple:
        return separator.join(str(k._bare() if isinstance(k, _Key) else k) for k in keys)
    parts = []
    for k in keys:
        if isinstance(k, _Key):
            parts.append(str(k))
        elif isinstance(k, _FieldName):
            parts.append(f".{k}")
        elif isinstance(k, int):
            parts.append(f"[{k}]")
        else:
            parts.append(f"[{k!r}]")
    return separator.join(parts)


def tree_transpose(outer_treedef, inner_treedef, pytree_to_transpose):
    """Turn a pytree of structure ``outer`` whose subtrees have structure ``inner`` into one
    of structure ``inner`` whose subtrees have structure ``outer`` (a list of per-example
    dicts into a dict of lists); ``inner_treedef=None`` takes the first subtree's."""
    if inner_treedef is None:
        subtrees = outer_treedef.flatten_up_to(pytree_to_transpose)
        inner_treedef = tree_structure(subtrees[0]) if subtrees else tree_structure(None)
    return optree.tree_transpose(outer_treedef, inner_treedef, pytree_to_transpose)


def all_leaves(iterable, is_leaf=None):
    """Whether every element of ``iterable`` is a leaf (of no registered node type)."""
    return optree.all_leaves(iterable, is_leaf, namespace=NAMESPACE)


def tree_reduce(f, tree, initializer=_MISSING, is_leaf=None):
    """``functools.reduce(f, tree_leaves(tree), initializer)`` (without ``initializer``
    when not given)."""
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _MISSING:
        return functools.reduce(f, leaves)
    return functools.reduce(f, leaves, initializer)


def tree_all(tree, *, is_leaf=None):
    """Whether every leaf is true (``bool(leaf)``: concrete leaves only)."""
    return builtins.all(tree_leaves(tree, is_leaf))


def ravel_pytree(tree):
    """Flatten a pytree of arrays into one 1-d array: ``(flat, unravel)`` with
    ``unravel(flat)`` rebuilding a pytree of the original structure, shapes and dtypes (as
    ``jax.flatten_util.ravel_pytree``). ``flat`` has the leaves' promoted dtype and their
    library; both directions are differentiable, so a function of a pytree becomes a function
    of a vector (for ``jacfwd``/``hessian`` as matrices, or ``scipy.optimize``)."""
    from . import numpy as fnp
    leaves, treedef = tree_flatten(tree)
    leaves = [fnp.asarray(x) if type(x) in (bool, int, float, complex) else x for x in leaves]
    shapes = [tuple(x.shape) for x in leaves]
    dtypes = [x.dtype for x in leaves]
    sizes = [math.prod(s) for s in shapes]
    if not leaves:
        flat = fnp.zeros((0,))
    else:
        dtype = fnp.result_type(*dtypes)
        flat = fnp.concat([fnp.reshape(fnp.astype(x, dtype), (-1,)) for x in leaves])
    total = builtins.sum(sizes)
    real_flat = not fnp.isdtype(flat.dtype, "complex floating")

    def unravel(vector):
        vshape = tuple(getattr(vector, "shape", ()))
        if vshape != (total,):
            raise ValueError(f"unravel: expected a 1-d array of {total} elements (the "
                             f"flattened pytree); got shape {vshape}.")
        # A real leaf takes the real part of a complex vector only where the flat vector
        # was complex (a tree mixing real and complex leaves); a complex vector for an
        # all-real tree would lose its imaginary part silently.
        if real_flat and fnp.isdtype(vector.dtype, "complex floating"):
            raise TypeError(f"unravel: got a {vector.dtype} vector, but every "
                            f"leaf of the flattened pytree is real, so the imaginary part "
                            f"would be dropped; pass fnp.real(v) (or fnp.imag(v)) "
                            f"explicitly if that is intended.")
        out, start = [], 0
        for shape, dtype, size in zip(shapes, dtypes, sizes):
            piece = vector[start:start + size]
            if fnp.isdtype(piece.dtype, "complex floating") and \
                    not fnp.isdtype(dtype, "complex floating"):
                piece = fnp.real(piece)
            out.append(fnp.reshape(fnp.astype(piece, dtype), shape))
            start += size
        return tree_unflatten(treedef, out)
    return flat, unravel


# JAX's short names (``jax.tree.map`` ...): ``ft.tree.map`` and the others.
flatten, unflatten, structure = tree_flatten, tree_unflatten, tree_structure
map, leaves, map_with_path = tree_map, tree_leaves, tree_map_with_path
reduce, all = tree_reduce, tree_all
flatten_with_path, leaves_with_path = tree_flatten_with_path, tree_leaves_with_path
transpose = tree_transpose


# -- jax.tree_util's remaining names --------------------------------------------------------------

# The class of tree structures (jax.tree_util.PyTreeDef): optree's.
PyTreeDef = optree.PyTreeSpec
# A step of a path (DictKey, SequenceKey, GetAttrKey, FlattenedIndexKey or a registered key)
# and a path, for annotations (jax.tree_util.KeyEntry, KeyPath).
KeyEntry = typing.TypeVar("KeyEntry", bound=typing.Any)
KeyPath = typing.Tuple[KeyEntry, ...]


def _one_level(tree, is_leaf=None):
    try:
        out = optree.tree_flatten_one_level(tree, is_leaf, namespace=NAMESPACE)
    except ValueError:
        out = None
    if out is None or (is_leaf is not None and is_leaf(tree)):
        raise ValueError(f"can't tree-flatten type: {type(tree)} (a leaf has no children)")
    return out


def flatten_one_level(tree):
    """``(children, aux)`` of the node ``tree``, one level down
    (``jax.tree_util.flatten_one_level``): a dict's values in sorted key order with its
    sorted keys, a tuple's items with None... A leaf is a ValueError."""
    out = _one_level(tree)
    meta = out.metadata
    return tuple(out.children), (tuple(meta) if isinstance(meta, list) else meta)


def flatten_one_level_with_keys(tree):
    """``(((key, child), ...), aux)``: :func:`flatten_one_level` with each child's key
    (``DictKey``, ``SequenceKey``, ``GetAttrKey``...), as in paths."""
    children, meta = flatten_one_level(tree)
    accessors, _, _ = optree.tree_flatten_with_accessor(
        tree, lambda x: x is not tree, namespace=NAMESPACE)
    keys = [_key_of(a[0]) for a in accessors]
    return tuple(zip(keys, children)), meta


def treedef_children(treedef):
    """The structures of the children of ``treedef``'s root."""
    return list(treedef.children())


def treedef_is_leaf(treedef):
    """Whether ``treedef`` has one node (a leaf, or an empty node such as ``None``), as
    ``jax.tree_util.treedef_is_leaf``."""
    return treedef.num_nodes == 1


def treedef_tuple(treedefs):
    """The structure of a tuple whose items have the structures ``treedefs``."""
    return optree.treespec_tuple(list(treedefs), namespace=NAMESPACE)


def tree_broadcast(prefix_tree, full_tree, is_leaf=None):
    """``prefix_tree`` with each leaf repeated over the subtree of ``full_tree`` at its
    place (``jax.tree.broadcast``): ``([1, {'a': 2}], [(3, 4), {'a': [5, 6]}])`` gives
    ``[(1, 1), {'a': [2, 2]}]``."""
    try:
        return optree.tree_broadcast_prefix(prefix_tree, full_tree, is_leaf,
                                            namespace=NAMESPACE)
    except ValueError as e:
        where = _structure_difference(tree_structure(prefix_tree, is_leaf), full_tree)
        if not where:
            raise
        raise ValueError(f"tree_broadcast: full_tree does not extend prefix_tree {where}."
                         ) from e


_NO_IDENTITY = object()


def tree_reduce_associative(operation, tree, *, identity=_NO_IDENTITY, is_leaf=None):
    """The leaves combined with the associative ``operation`` pairwise, as a balanced tree
    of calls (``jax.tree.reduce_associative``): the left half, the right half, then the
    two. With no leaves, ``identity`` (a TypeError if not given)."""
    leaves = tree_leaves(tree, is_leaf)
    if not leaves:
        if identity is _NO_IDENTITY:
            raise TypeError("tree_reduce_associative: the tree has no leaves; pass identity= "
                            "for the reduction of an empty sequence.")
        return identity

    def reduce_range(lo, hi):
        if hi - lo == 1:
            return leaves[lo]
        mid = lo + (hi - lo) // 2
        return operation(reduce_range(lo, mid), reduce_range(mid, hi))
    return reduce_range(0, len(leaves))


def is_tree_node(typ):
    """Whether instances of the type ``typ`` are pytree nodes (built in, registered, or
    namedtuples), as ``jax.tree_util.is_tree_node``."""
    if not isinstance(typ, type):
        raise TypeError(f"is_tree_node takes a type; got {type(typ).__name__}.")
    if typ in (tuple, list, dict, type(None)) or issubclass(typ, dict) or \
            optree.is_namedtuple_class(typ) or optree.is_structseq_class(typ):
        return True
    return typ in optree.register_pytree_node.get(namespace=NAMESPACE)


class _Registry:
    """The registry of pytree node types (``jax.tree_util.default_registry``), with the
    methods programs call on it."""

    def flatten(self, tree, is_leaf=None):
        return tree_flatten(tree, is_leaf)

    def flatten_one_level(self, tree):
        try:
            return flatten_one_level(tree)
        except ValueError:
            return None

    def flatten_one_level_with_keys(self, tree):
        try:
            return flatten_one_level_with_keys(tree)
        except ValueError:
            return None

    def flatten_with_path(self, tree, is_leaf=None):
        return tree_flatten_with_path(tree, is_leaf)

    def is_node(self, typ):
        return is_tree_node(typ)

    def register_node(self, cls, flatten, unflatten, flatten_with_keys=None):
        return register_pytree_node(cls, flatten, unflatten, flatten_with_keys)

    def register_dataclass_node(self, cls, data_fields, meta_fields):
        return register_dataclass(cls, data_fields, meta_fields)

    def __repr__(self):
        return "functrans.tree.default_registry"


default_registry = _Registry()
broadcast, reduce_associative = tree_broadcast, tree_reduce_associative


def static(**kwargs):
    """A dataclass field marked static (``jax.tree.static``): ``dataclasses.field`` with
    ``metadata={"static": True}`` added, for :func:`register_dataclass`."""
    import dataclasses
    metadata = dict(kwargs.pop("metadata", None) or {})
    metadata["static"] = True
    return dataclasses.field(metadata=metadata, **kwargs)
