"""Pytree and dtype cases, following the topics of JAX's tests/tree_util_test.py and
tests/dtypes_test.py, restated here in our own code.

Each case is written once against a small namespace (``L.tu`` is ``jax.tree_util`` or
``functrans.tree``, ``L.np`` the array namespace, ``L.dtypes``...) and checked on functrans
against a reference that needs no JAX (values written out by hand, NumPy's and
array-api-strict's dtype rules, closed-form derivatives, the dot-product identity); where JAX
is installed the same case also runs on JAX (x64) and the results are compared. Where
functrans deliberately differs from JAX the case says so and pins both answers
(docs/coming-from-jax.md lists the differences): a dict rebuilt from a structure keeps the
key order it was flattened with; dicts with keys of mixed types flatten; unsigned 64-bit with
a signed integer is a TypeError (JAX: float64); ``promote_types`` is NumPy's table;
``can_cast`` is the standard's (no cross-kind casts); a Python integer outside an integer
array's dtype is NumPy's OverflowError (JAX wraps it); ``result_type(float32, float)`` is
float64, as NumPy's (JAX: the type ``float`` is weak); and the few others the cases name.
"""

import collections
import dataclasses
import functools
import itertools
import pickle
import types

import numpy as np
import optree
import pytest

import functrans as ft
import functrans.dtypes as fdt
import functrans.numpy as fnp
import functrans.tree as ftree

FT = types.SimpleNamespace(name="functrans", tu=ftree, tree=ftree, np=fnp, dtypes=fdt,
                           grad=ft.grad, jvp=ft.jvp, vjp=ft.vjp, vmap=ft.vmap, jit=ft.jit,
                           jacfwd=ft.jacfwd, jacrev=ft.jacrev, hessian=ft.hessian,
                           ravel_pytree=ftree.ravel_pytree, random=ft.random)


# -- pytree node types, registered with each library -------------------------------------------

ATuple = collections.namedtuple("ATuple", ("foo", "bar"))


class ANamedTupleSubclass(ATuple):
    pass


class AnObject:
    """A registered node with static data ``z`` (children x, y; no keys)."""

    def __init__(self, x, y, z):
        self.x, self.y, self.z = x, y, z

    def __eq__(self, other):
        return type(other) is type(self) and (self.x, self.y, self.z) == (
            other.x, other.y, other.z)

    def __hash__(self):
        return hash((self.x, self.y))

    def __repr__(self):
        return f"{type(self).__name__}({self.x!r}, {self.y!r}, {self.z!r})"


class AnObjectWithKeys(AnObject):
    """Registered with register_pytree_with_keys: its children are named "x" and "y"."""


class Special:
    """Registered by register_pytree_node_class (its own tree_flatten/tree_unflatten)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return type(other) is type(self) and (self.x, self.y) == (other.x, other.y)

    def tree_flatten(self):
        return (self.x, self.y), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)


@dataclasses.dataclass
class ADataclass:
    x: tuple
    y: object


@dataclasses.dataclass
class ADataclassWithMeta:
    x: tuple
    y: object
    z: int = dataclasses.field(default=0, metadata={"static": True})


class StaticInt(int):
    """Registered static: part of the structure, no leaves."""


class StaticTuple(tuple):
    pass


@dataclasses.dataclass
class BlackBox:
    """Static, and equal to every other BlackBox: a jitted function stages once for all."""

    value: int

    def __hash__(self):
        return 0

    def __eq__(self, other):
        return isinstance(other, BlackBox)


def _register(tu):
    for cls in (StaticInt, StaticTuple, BlackBox):
        tu.register_static(cls)
    tu.register_pytree_node(AnObject, lambda o: ((o.x, o.y), o.z),
                            lambda z, xy: AnObject(xy[0], xy[1], z))
    tu.register_pytree_with_keys(AnObjectWithKeys,
                                 lambda o: ((("x", o.x), ("y", o.y)), o.z),
                                 lambda z, xy: AnObjectWithKeys(xy[0], xy[1], z))
    tu.register_pytree_node_class(Special)
    tu.register_dataclass(ADataclass)
    tu.register_dataclass(ADataclassWithMeta)


_register(ftree)


@pytest.fixture(scope="module")
def JX():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax import flatten_util
    _register(jax.tree_util)
    return types.SimpleNamespace(name="jax", tu=jax.tree_util, tree=jax.tree, np=jax.numpy,
                                 dtypes=jax.dtypes, grad=jax.grad, jvp=jax.jvp,
                                 vjp=jax.vjp, vmap=jax.vmap, jit=jax.jit,
                                 jacfwd=jax.jacfwd, jacrev=jax.jacrev, hessian=jax.hessian,
                                 ravel_pytree=flatten_util.ravel_pytree, random=jax.random)


def _same(a, b, tol=1e-12):
    """Results of a case on functrans and on JAX agree (containers alike, leaves equal or
    close)."""
    la, ta = optree.tree_flatten(a, none_is_leaf=True, namespace=ftree.NAMESPACE)
    lb, tb = optree.tree_flatten(b, none_is_leaf=True, namespace=ftree.NAMESPACE)
    assert ta == tb, (ta, tb)
    for x, y in zip(la, lb):
        if hasattr(x, "shape") or hasattr(y, "shape"):
            x, y = np.asarray(x), np.asarray(y)
            assert x.shape == y.shape and x.dtype == y.dtype, (x, y)
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol)
        else:
            assert x == y, (x, y)


CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


# -- flattening and round trips -----------------------------------------------------------------

# (tree, its leaves, its number of nodes), the leaves and counts written out by hand
TREES = [
    (None, [], 1),
    ((None,), [], 2),
    ((), [], 1),
    ([()], [], 2),
    ((1, 2), [1, 2], 3),
    (((1, "foo"), ["bar", (3, None, 7)]), [1, "foo", "bar", 3, 7], 10),
    ([3], [3], 2),
    ([3, ATuple(foo=(3, ATuple(foo=3, bar=None)), bar={"baz": 34})], [3, 3, 3, 34], 10),
    ([AnObject(3, None, [4, "foo"])], [3], 4),
    ([AnObjectWithKeys(3, None, [4, "foo"])], [3], 4),
    (Special(2, 3.0), [2, 3.0], 3),
    ({"a": 1, "b": 2}, [1, 2], 3),
    ({"b": 2, "a": 1, "c": {"b": 2, "a": 1}}, [1, 2, 1, 2], 6),
    (collections.OrderedDict([("foo", 34), ("baz", 101), ("something", -42)]),
     [34, 101, -42], 4),
    (collections.defaultdict(dict, [("foo", 34), ("baz", 101), ("something", -42)]),
     [101, 34, -42], 4),
    (ANamedTupleSubclass(foo="hello", bar=3.5), ["hello", 3.5], 3),
    (ADataclass(x=(1, 2), y=3), [1, 2, 3], 5),
    (ADataclassWithMeta(x=(1, 2), y=3, z=4), [1, 2, 3], 5),
    ("foo", ["foo"], 1),
    (0.1, [0.1], 1),
]


@case
def roundtrips(L):
    out = []
    for tree, leaves, nodes in TREES:
        got, treedef = L.tu.tree_flatten(tree)
        assert got == leaves, (tree, got)
        assert L.tu.tree_unflatten(treedef, got) == tree
        assert treedef.num_leaves == len(leaves) and treedef.num_nodes == nodes, tree
        assert L.tu.tree_unflatten(treedef, treedef.flatten_up_to(tree)) == tree
        assert L.tu.tree_leaves(tree) == leaves and L.tu.tree_structure(tree) == treedef
        # a treedef pickles, and unflattens after it
        again = pickle.loads(pickle.dumps(treedef))
        assert again == treedef and again.unflatten(leaves) == tree
        # with paths: the same leaves and structure
        pairs, td = L.tu.tree_flatten_with_path(tree)
        assert [v for _, v in pairs] == leaves and td == treedef
        assert L.tu.tree_unflatten(td, [v for _, v in pairs]) == tree
        # is_leaf stopping at tuples round-trips too
        xs, td = L.tu.tree_flatten(tree, is_leaf=lambda t: isinstance(t, tuple))
        assert L.tu.tree_unflatten(td, xs) == tree
        out.append((got, treedef.num_leaves, treedef.num_nodes,
                    L.tu.treedef_is_leaf(treedef)))
    return out


@case
def dict_key_order(L):
    d = {"b": 2, "a": 1, "c": {"b": 2, "a": 1}}
    leaves, treedef = L.tu.tree_flatten(d)
    assert leaves == [1, 2, 1, 2]  # sorted keys
    back = L.tu.tree_unflatten(treedef, leaves)
    assert back == d
    # deliberate difference: functrans rebuilds the dict in the order it was flattened with
    # (optree), JAX in sorted order; the dicts compare equal.
    assert list(back) == (["a", "b", "c"] if L.name == "jax" else ["b", "a", "c"])
    od = collections.OrderedDict([("b", 2), ("a", 1)])
    leaves, treedef = L.tu.tree_flatten(od)
    assert leaves == [2, 1] and list(L.tu.tree_unflatten(treedef, [5, 6])) == ["b", "a"]
    dd = collections.defaultdict(list, {"b": 2, "a": 1})
    leaves, treedef = L.tu.tree_flatten(dd)
    back = L.tu.tree_unflatten(treedef, leaves)
    assert leaves == [1, 2] and type(back) is collections.defaultdict
    assert back.default_factory is list and back == dd
    # a defaultdict's factory is part of the structure; a dict is not an OrderedDict
    assert treedef != L.tu.tree_structure(collections.defaultdict(dict, {"b": 2, "a": 1}))
    assert L.tu.tree_structure({"a": 1}) != L.tu.tree_structure(
        collections.OrderedDict(a=1))
    return leaves


@case
def unsortable_dict_keys(L):
    d = {"a": 1, 2: "b"}
    if L.name == "jax":  # JAX refuses dict keys it cannot sort
        with pytest.raises((TypeError, ValueError)):
            L.tu.tree_flatten(d)
        return None
    leaves, treedef = L.tu.tree_flatten(d)  # (optree orders them by type, then value)
    assert sorted(leaves, key=str) == [1, "b"] and L.tu.tree_unflatten(treedef, leaves) == d
    return None


@case
def flatten_order_and_is_leaf(L):
    flat = L.tu.tree_leaves([0, ((1, (2, 3)), (4, (5, 6, 7))), 8, 9])
    assert flat == list(range(10))
    x = [(1, 2), (3, 4), (5, 6)]
    out = []
    for is_leaf, leaves, n in [(lambda t: False, [1, 2, 3, 4, 5, 6], 6),
                               (lambda t: isinstance(t, tuple), x, 3),
                               (lambda t: isinstance(t, list), [x], 1),
                               (lambda t: True, [x], 1)]:
        assert L.tu.tree_leaves(x, is_leaf=is_leaf) == leaves
        assert L.tu.tree_flatten(x, is_leaf)[0] == leaves
        assert L.tu.tree_structure(x, is_leaf=is_leaf).num_leaves == n
        out.append(n)
    y = [[[(1,)], [[(2,)], {"a": (3,)}]]]
    assert L.tu.tree_leaves(y, is_leaf=lambda t: isinstance(t, tuple)) == [(1,), (2,), (3,)]
    assert L.tu.tree_leaves([None, 1], is_leaf=lambda t: t is None) == [None, 1]
    return out


@case
def flatten_up_to(L):
    rows = [
        ([(1, 2), None, ATuple(foo=3, bar=7)],
         [({"foo": 7}, (3, 4)), None, ATuple(foo=(11, 9), bar=None)],
         [{"foo": 7}, (3, 4), (11, 9), None]),
        ([1], [{"a": 7}], [{"a": 7}]),
        ((1, 2), ({"a": 7}, {"a": 8}), [{"a": 7}, {"a": 8}]),
        ({"a": 1, "b": (2, 3)}, {"a": [7], "b": ([8], (9,))}, [[7], [8], (9,)]),
        (None, None, []),
    ]
    for tree, xs, expected in rows:
        assert L.tu.tree_structure(tree).flatten_up_to(xs) == expected
    bad = [([1, 2], [7]), ((1,), (7, 8)), ({"a": 1}, {"a": 7, "b": 8}), ([1], (7,)),
           ((1,), [7]), ({"a": 1}, [7]), ([[1]], [7]), ([{"a": 1}], [{"b": 7}]),
           ([ATuple(1, 2)], [(1, 2)]), ([AnObject([1], (2,), 3)], [([1], (2,))]),
           (None, [2])]
    for tree, xs in bad:
        with pytest.raises(ValueError):
            L.tu.tree_structure(tree).flatten_up_to(xs)
    return None


# -- tree_map and its errors --------------------------------------------------------------------

@case
def tree_map_several_trees(L):
    x = ((1, 2), (3, 4, 5))
    y = (([3], None), ({"foo": "bar"}, 7, [5, 6]))
    out = L.tu.tree_map(lambda *xs: tuple(xs), x, y)
    assert out == (((1, [3]), (2, None)), ((3, {"foo": "bar"}), (4, 7), (5, [5, 6])))
    x = ((1, 2), [3, 4, 5])
    out2 = L.tu.tree_map(lambda *xs: tuple(xs), x, y, is_leaf=lambda n: isinstance(n, list))
    assert out2 == (((1, [3]), (2, None)), ([3, 4, 5], ({"foo": "bar"}, 7, [5, 6])))
    # None is a node without children: its place maps to None
    assert L.tu.tree_map(lambda a, b: a + b, [1, None, {"a": 2}], [10, None, {"a": 20}]) == \
        [11, None, {"a": 22}]
    t = [ATuple(1, 2), AnObject(3, 4, "z"), Special(5, 6), ADataclassWithMeta((7,), 8, 9)]
    doubled = L.tu.tree_map(lambda v: 2 * v, t)
    assert doubled == [ATuple(2, 4), AnObject(6, 8, "z"), Special(10, 12),
                       ADataclassWithMeta((14,), 16, 9)]
    return [out, out2]


# (first tree, another, the path where they differ as keystr writes it, '' for the root)
MISMATCHES = [
    ({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2, 3]}, "['b']"),
    ({"a": 1, "b": (1, 2)}, {"a": 1, "b": [1, 2]}, "['b']"),
    ([ATuple(1, {"q": (1,)})], [ATuple(1, {"q": [1]})], "[0].bar['q']"),
    ((None, [1, 2]), ((), [1, 2]), "[0]"),
    ([1, [2, 3]], [1, 2], "[1]"),
    ({"a": 1, "b": 2}, {"a": 1, "c": 2}, ""),
]


@case
def tree_map_mismatch_names_the_place(L):
    for a, b, where in MISMATCHES:
        with pytest.raises(ValueError) as e:
            L.tu.tree_map(lambda x, y: x, a, b)
        msg = str(e.value)
        if L.name == "jax" and ".bar" in where:  # (JAX 0.10.2 names the namedtuple's first
            where = where.replace(".bar", ".foo")  # field where the second differs)
        assert where in msg, (msg, where)
        if L.name == "functrans":
            assert f"at {where or 'the root'}:" in msg, msg
            with pytest.raises(ValueError, match="at " + (where or "the root").replace(
                    "[", r"\[").replace("]", r"\]")):
                L.tu.tree_map_with_path(lambda p, x, y: x, a, b)
    # an error of the mapped function itself comes through unchanged
    with pytest.raises(ZeroDivisionError):
        L.tu.tree_map(lambda x, y: x / y, [1.0], [0])
    return None


def test_transform_mismatch_names_the_place():
    with pytest.raises(ft.errors.TangentMismatchError, match=r"differ at \[0\]\['b'\]"):
        ft.jvp(lambda d: d, ({"a": 1.0, "b": [1.0]},), ({"a": 1.0, "b": [1.0, 2.0]},))
    _, pullback = ft.vjp(lambda d: d, {"a": [1.0]})
    with pytest.raises(ft.errors.TangentMismatchError, match=r"differ at \['a'\]"):
        pullback({"a": 1.0})
    with pytest.raises(ft.errors.BatchingError, match=r"instance of tuple at \[1\]\[1\]"):
        ft.vmap(lambda d, e: d, in_axes=(0, [0, (0, 0)]))(np.ones(2), [np.ones(2), [
            np.ones(2), np.ones(2)]])
    with pytest.raises(TypeError, match=r"differ at \['b'\]: false_fun"):
        ft.jit(lambda p, x: ft.lax.cond(p, lambda x: {"a": x, "b": [x]},
                                        lambda x: {"a": x, "b": [x, x]}, x))(
            np.array(True), np.ones(2))
    with pytest.raises(TypeError, match=r"differ at \['b'\]: the carry"):
        ft.lax.scan(lambda c, x: ({"a": c["a"], "b": [c["a"]]}, x), {"a": 1.0, "b": 2.0},
                    np.ones(3))
    with pytest.raises(ValueError, match="at the root: tuple arity"):
        ftree.broadcast((1, 2, 3), (0, {"a": 0, "b": 0}))
    with pytest.raises(ValueError, match=r"at \[1\]"):
        ftree.broadcast((1, {"a": 0}), (0, {"a": 0, "b": 0}))
    assert ftree._treedef_difference(ftree.structure([1, (2,)]), ftree.structure([1, [2]])) \
        == ((ftree.SequenceKey(1),), ftree.structure((0,)), ftree.structure([0]))


# -- treedef operations -------------------------------------------------------------------------

@case
def treedef_operations(L):
    _, tree = L.tu.tree_flatten(((1, 2, 3), (4,)))
    c0, c1 = L.tu.tree_structure((0, 0, 0)), L.tu.tree_structure((7,))
    assert L.tu.treedef_children(tree) == [c0, c1] == list(tree.children())
    t = ((1, 2, (3, 4)), (5,))
    leaves, td1 = L.tu.tree_flatten(t)
    td2 = L.tu.treedef_tuple(L.tu.treedef_children(td1))
    assert td1 == td2 and td2.num_leaves == len(leaves) == 5 and td2.num_nodes == 9
    assert L.tu.tree_structure((3,)) == L.tu.treedef_tuple((L.tu.tree_structure(3),))
    counts = []
    inner = L.tu.tree_structure(["*", "*", "*"])
    for tree, leaves, nodes in TREES[:12]:
        treedef = L.tu.tree_structure(tree)
        composed = treedef.compose(inner)
        assert composed.num_leaves == 3 * len(leaves)
        assert composed.num_nodes == nodes - len(leaves) + 4 * len(leaves)
        assert L.tu.tree_leaves(L.tu.tree_unflatten(composed, [1] * composed.num_leaves)) \
            == [1] * composed.num_leaves
        counts.append((composed.num_leaves, composed.num_nodes))
    assert [L.tu.treedef_is_leaf(L.tu.tree_structure(v)) for v in (1, None, (), [1])] == \
        [True, True, True, False]
    return counts


@case
def all_leaves_and_reductions(L):
    for tree, leaves, _ in TREES[:18]:
        assert L.tu.all_leaves(L.tu.tree_leaves(tree))
        assert L.tu.all_leaves([tree]) == (leaves == [tree])
    assert L.tu.all_leaves([1, "a", 0.5]) and not L.tu.all_leaves([1, (2,)])
    assert not L.tu.all_leaves([1, None])  # None is a node
    assert L.tu.all_leaves([(1,)], is_leaf=lambda t: isinstance(t, tuple))
    s = L.tu.tree_reduce(lambda a, b: a + b, [(1, 2), [(3, 4), (5, 6)]],
                         is_leaf=lambda t: isinstance(t, tuple))
    assert s == (1, 2, 3, 4, 5, 6)
    assert L.tu.tree_reduce(lambda a, b: a * b, {"a": 2, "b": [3, 4]}, 10) == 240
    assert L.tu.tree_reduce(lambda a, b: a + b, [], 7) == 7
    with pytest.raises(TypeError):
        L.tu.tree_reduce(lambda a, b: a + b, [])
    assert L.tu.tree_all([1, (True, 2.0)]) and not L.tu.tree_all({"a": [1, 0]})
    assert L.tu.tree_all({}) and L.tu.tree_all([None])
    pair = L.tree.reduce_associative(lambda a, b: (a, b), [1, 2, 3, 4, 5])
    assert pair == ((1, 2), (3, (4, 5)))
    assert L.tree.reduce_associative(lambda a, b: a + b, [], identity=0) == 0
    return s, pair


@case
def transposes(L):
    outer = L.tu.tree_structure([0, 0])
    inner = L.tu.tree_structure((0, 0, 0))
    got = L.tu.tree_transpose(outer, inner, [(1, 2, 3), (4, 5, 6)])
    assert got == ([1, 4], [2, 5], [3, 6])
    for tree, leaves, _ in TREES[4:18]:
        if not leaves:
            continue
        nested = L.tu.tree_map(lambda x: [x, {"a": x}, (x,)], tree)
        assert L.tu.tree_transpose(L.tu.tree_structure(tree),
                                   L.tu.tree_structure([0, {"a": 0}, (0,)]), nested) == \
            [tree, {"a": tree}, (tree,)]
        assert L.tu.tree_transpose(L.tu.tree_structure(tree), None, nested) == \
            [tree, {"a": tree}, (tree,)]
    tree = {"a": [1, 2], "b": [3, 4]}
    for o, i in [({"a": 1, "b": 2, "c": 3}, [1, 2]), ({"a": 1, "b": 2}, [1, 2, 3])]:
        with pytest.raises(TypeError, match="(?i)mismatch"):
            L.tu.tree_transpose(L.tu.tree_structure(o), L.tu.tree_structure(i), tree)
    return got


@case
def broadcasts(L):
    assert L.tu.tree_broadcast((1, 2, 3), (0, {"a": 0, "b": 0}, (0, 0))) == \
        (1, {"a": 2, "b": 2}, (3, 3))
    for tree, leaves, _ in TREES[4:18]:
        nested = L.tu.tree_map(lambda x: [x, x, x], tree)
        assert L.tu.tree_broadcast(tree, nested) == nested
    for prefix, full in [((1, 2, 3), (0, {"a": 0, "b": 0})),
                         ((1, 2), (0, {"a": 0, "b": 0}, (0, 0))),
                         ((1, {"a": 0}), (0, {"a": 0, "b": 0}))]:
        with pytest.raises(ValueError):
            L.tu.tree_broadcast(prefix, full)
    return L.tree.broadcast([1, {"a": 2}], [(3, 4), {"a": [5, 6]}])


# -- paths ----------------------------------------------------------------------------------------

@case
def paths_and_keystr(L):
    tu = L.tu
    tree = [ATuple(12, {"cin": [1, 4, 10], "bar": None}), np.arange(3)]
    flat, treedef = tu.tree_flatten_with_path(tree)
    strs = [tu.keystr(kp) for kp, _ in flat]
    assert strs == ["[0].foo", "[0].bar['cin'][0]", "[0].bar['cin'][1]",
                    "[0].bar['cin'][2]", "[1]"]
    simple = [tu.keystr(kp, simple=True, separator="/") for kp, _ in flat]
    assert simple == ["0/foo", "0/bar/cin/0", "0/bar/cin/1", "0/bar/cin/2", "1"]
    assert treedef == tu.tree_structure(tree)
    assert tu.tree_unflatten(treedef, [v for _, v in flat])[0] == tree[0]
    x = [AnObjectWithKeys(12, {"foo": (2, 3), "bar": None}, "c"), ADataclass((1,), 2),
         AnObject(7, 8, "z")]
    flat = tu.tree_flatten_with_path(x)[0]
    paths = [kp for kp, _ in flat]
    assert [v for _, v in flat] == [12, 2, 3, 1, 2, 7, 8]
    S, D, G, F = tu.SequenceKey, tu.DictKey, tu.GetAttrKey, tu.FlattenedIndexKey
    assert paths == [(S(0), "x"), (S(0), "y", D("foo"), S(0)), (S(0), "y", D("foo"), S(1)),
                     (S(1), G("x"), S(0)), (S(1), G("y")), (S(2), F(0)), (S(2), F(1))]
    assert [tu.keystr(p) for p in paths[3:]] == ["[1].x[0]", "[1].y", "[2][<flat index 0>]",
                                                 "[2][<flat index 1>]"]
    tree = [{i: i for i in range(4)}]
    zeros = tu.tree_map_with_path(lambda kp, v: v - kp[1].key + kp[0].idx, tree)
    assert zeros == [{i: 0 for i in range(4)}]
    assert tu.tree_leaves_with_path(tree) == [((S(0), D(i)), i) for i in range(4)]
    two = tu.tree_map_with_path(lambda kp, a, b: a + b, [1, {"c": 2}], [10, {"c": 20}])
    assert two == [11, {"c": 22}]
    od = collections.OrderedDict({"b": 2, "a": 1})
    assert [kp for kp, _ in tu.tree_flatten_with_path(od)[0]] == [(D("b"),), (D("a"),)]
    # a node registered without keys is not a leaf of paths
    assert len(tu.tree_flatten_with_path(Special([1, 2], [3, 4]))[0]) == 4
    return strs, simple


@case
def paths_with_is_leaf_taking_the_path(L):
    tu = L.tu
    x = ((1, 2), [3, {4: 4, 5: 5}])
    flat, treedef = tu.tree_flatten_with_path(x, is_leaf=lambda kp, _: len(kp) >= 2,
                                              is_leaf_takes_path=True)
    S = tu.SequenceKey
    assert flat == [((S(0), S(0)), 1), ((S(0), S(1)), 2), ((S(1), S(0)), 3),
                    ((S(1), S(1)), {4: 4, 5: 5})]
    assert tu.tree_unflatten(treedef, [v for _, v in flat]) == x
    out = tu.tree_map_with_path(lambda kp, *xs: (kp[0].idx, *xs), ((1, 2), [3, 4, 5]),
                                (([3], 0), ([0], 7, [5, 6])),
                                is_leaf=lambda kp, n: isinstance(n, list),
                                is_leaf_takes_path=True)
    assert out == (((0, 1, [3]), (0, 2, 0)), (1, [3, 4, 5], ([0], 7, [5, 6])))
    # the same None is a leaf at one depth and a node at another
    got = tu.tree_leaves_with_path([None, (None,)], is_leaf=lambda kp, n: len(kp) == 1 and
                                   n is None, is_leaf_takes_path=True)
    assert got == [((S(0),), None)]
    d = {"b": {"y": 1, "x": (2,)}, "a": AnObjectWithKeys(3, [4], "z")}
    flat, treedef = tu.tree_flatten_with_path(d, is_leaf=lambda kp, n: isinstance(n, tuple),
                                              is_leaf_takes_path=True)
    assert [v for _, v in flat] == [3, 4, (2,), 1] and treedef == tu.tree_structure(
        d, is_leaf=lambda n: isinstance(n, tuple))
    assert list(tu.tree_unflatten(treedef, [v for _, v in flat])["b"]) == (
        ["x", "y"] if L.name == "jax" else ["y", "x"])  # (the dicts' key order, as above)
    # keystr of a plain key a flatten_with_keys gave: functrans writes it as a dict key
    assert tu.keystr(flat[0][0]) == ("['a']x" if L.name == "jax" else "['a']['x']")
    return [tuple(str(k) for k in kp) for kp, _ in flat]


@case
def bad_flatten_functions(L):
    class NotTuple:
        pass

    class ThreeItems:
        pass

    class NotIterable:
        pass
    for cls, out in [(NotTuple, "hello"), (ThreeItems, (2, 3, 4)), (NotIterable, (7, 7))]:
        L.tu.register_pytree_node(cls, lambda o, out=out: out, lambda aux, ch: None)
    with pytest.raises(ValueError, match=r"\(children, aux_data\) tuple.*got 'hello'"):
        L.tu.tree_flatten(NotTuple())
    with pytest.raises(ValueError, match=r"\(children, aux_data\) tuple.*got \(2, 3, 4\)"):
        L.tu.tree_leaves([ThreeItems()])
    with pytest.raises(ValueError, match=r"iterable.*got \(7, 7\)"):
        L.tu.tree_structure({"a": NotIterable()})
    with pytest.raises(ValueError):  # registered twice
        L.tu.register_pytree_node(NotTuple, lambda o: ((), None), lambda aux, ch: None)
    return None


@case
def key_objects(L):
    tu = L.tu
    keys = [tu.SequenceKey(1), tu.DictKey("foo"), tu.GetAttrKey("bar"),
            tu.FlattenedIndexKey(1)]
    assert [str(k) for k in keys] == ["[1]", "['foo']", ".bar", "[<flat index 1>]"]
    assert (keys[0].idx, keys[1].key, keys[2].name, keys[3].key) == (1, "foo", "bar", 1)
    for k in keys:
        assert pickle.loads(pickle.dumps(k)) == k
        assert hash(type(k)(*[getattr(k, a) for a in ("idx", "key", "name")
                              if hasattr(k, a)])) == hash(k)
    assert tu.SequenceKey(1) != tu.FlattenedIndexKey(1)
    for key in keys:
        match key:
            case tu.SequenceKey(idx=i):
                assert i == 1
            case tu.DictKey(key=k):
                assert k == "foo"
            case tu.GetAttrKey(name=n):
                assert n == "bar"
            case tu.FlattenedIndexKey(key=i):
                assert i == 1
            case _:
                raise AssertionError(key)
    return [str(k) for k in keys]


@case
def flatten_one_level(L):
    if L.name == "jax":
        from jax._src.tree_util import flatten_one_level as one
        from jax._src.tree_util import flatten_one_level_with_keys as one_keys
    else:
        one, one_keys = L.tu.flatten_one_level, L.tu.flatten_one_level_with_keys
    EmptyTuple = collections.namedtuple("EmptyTuple", ())
    S, D, G = L.tu.SequenceKey, L.tu.DictKey, L.tu.GetAttrKey
    rows = [([1, ATuple((), [None])], [1, ATuple((), [None])], None, [S(0), S(1)]),
            (ATuple(foo=(), bar=[None]), [(), [None]], ATuple, [G("foo"), G("bar")]),
            (AnObjectWithKeys(EmptyTuple(), 0, "c"), [EmptyTuple(), 0], "c", ["x", "y"]),
            ({"b": 1, "a": 2}, [2, 1], ("a", "b"), [D("a"), D("b")]),
            (None, [], None, []), ((1, 2), [1, 2], None, [S(0), S(1)]),
            (collections.OrderedDict(b=1, a=2), [1, 2], ("b", "a"), [D("b"), D("a")])]
    out = []
    for tree, children, aux, keys in rows:
        got, meta = one(tree)
        assert list(got) == children and meta == aux, tree  # (JAX: a list or a tuple)
        pairs, meta = one_keys(tree)
        assert [c for _, c in pairs] == children and meta == aux
        got_keys = [k for k, _ in pairs]
        if L.name == "jax" and isinstance(tree, ATuple):
            keys = [G("foo"), G("foo")]  # (JAX 0.10.2 names both fields "foo")
        assert got_keys == keys, (tree, got_keys)
        out.append(repr(list(got)))
    for leaf in (1, np.ones(2)):
        with pytest.raises(ValueError, match="can't tree-flatten type"):
            one(leaf)
    assert L.tu.default_registry.flatten_one_level(1) is None
    return out


@case
def partials(L):
    def func(*args, **kw):
        return args, kw

    for p in [L.tu.Partial(func), L.tu.Partial(func, 1, 2), L.tu.Partial(func, x="a"),
              L.tu.Partial(func, 1, 2, 3, x=4, y=5)]:
        leaves, treedef = L.tu.tree_flatten(p)
        back = L.tu.tree_unflatten(treedef, leaves)
        assert (back.func, back.args, back.keywords) == (p.func, p.args, p.keywords)
        assert leaves == [*p.args, *[p.keywords[k] for k in sorted(p.keywords)]]
    g = functools.partial(func, 2)
    h = L.tu.Partial(g, 3)
    assert h.args == (3,) and h() == ((2, 3), {})  # not merged into g
    fun = functools.partial(print, 1)
    p1, p2 = L.tu.Partial(fun, 2), L.tu.Partial(fun, 2)
    assert fun == p1.func and p1.func == fun and p1.func == p2.func
    assert hash(p1.func) == hash(p2.func)
    doubled = L.tu.tree_map(lambda v: 2 * v, L.tu.Partial(func, 1, k=3))
    assert doubled() == ((2,), {"k": 6})
    return doubled()


@case
def namespace_functions(L):
    t = {"b": [1, 2], "a": (3, None)}
    tr = L.tree
    leaves, treedef = tr.flatten(t)
    assert leaves == [3, 1, 2] and tr.leaves(t) == leaves and tr.structure(t) == treedef
    assert tr.unflatten(treedef, [4, 5, 6]) == {"a": (4, None), "b": [5, 6]}
    assert tr.map(lambda x, y: x * y, t, t) == {"a": (9, None), "b": [1, 4]}
    assert tr.reduce(lambda a, b: a + b, t) == 6 and tr.all(t)
    assert tr.reduce(lambda a, b: a + b, t, 10) == 16
    flat, _ = tr.flatten_with_path(t)
    assert [L.tu.keystr(p) for p, _ in flat] == ["['a'][0]", "['b'][0]", "['b'][1]"]
    assert tr.leaves_with_path(t) == flat
    assert tr.map_with_path(lambda p, x: len(p) * x, t) == {"a": (6, None), "b": [2, 4]}
    assert tr.transpose(tr.structure([0, 0]), None, [{"x": 1}, {"x": 2}]) == {"x": [1, 2]}
    assert tr.leaves([None, 1], is_leaf=lambda x: x is None) == [None, 1]

    @dataclasses.dataclass
    class WithStatic:
        w: object
        n: int = tr.static(default=3)
    L.tu.register_dataclass(WithStatic)
    flat = L.tu.tree_leaves(WithStatic(5))
    assert flat == [5] and L.tu.tree_structure(WithStatic(5, 4)) != \
        L.tu.tree_structure(WithStatic(5, 3))
    return leaves


@case
def ravel_pytree_dtypes(L):
    out = []
    for tree, want in [([np.array([3.0], np.float32), np.ones((2, 2), np.float32)], "float32"),
                       ([np.array([3], np.int32), np.ones((2, 2), np.int32)], "int32"),
                       ([np.array([3], np.int32), np.ones((2, 2), np.float32)], "float32"),
                       ([np.array([False]), np.ones((2, 2), np.int32)], "int32"),
                       ([np.array([1.0], np.float32), np.ones((2, 2), np.complex64)],
                        "complex64")]:
        flat, unravel = L.ravel_pytree(tree)
        assert np.dtype(flat.dtype) == np.dtype(want) and flat.shape == (5,)
        back = unravel(flat)
        for a, b in zip(tree, back):
            assert np.dtype(b.dtype) == a.dtype
            np.testing.assert_array_equal(np.asarray(b), a)
        out.append(np.asarray(flat))
    flat, unravel = L.ravel_pytree([])
    assert flat.shape == (0,) and unravel(flat) == []
    # functrans: float64 for no leaves (its default dtype; JAX's convention is float32)
    assert np.dtype(flat.dtype) == np.dtype("float32" if L.name == "jax" else "float64")
    # unravel of another dtype: functrans gives back the leaves' own dtypes; JAX keeps the
    # given dtype for one dtype, and refuses another for mixed ones
    flat, unravel = L.ravel_pytree(np.arange(4, dtype=np.float32))
    got = unravel(flat < 1.5)
    assert np.dtype(got.dtype) == np.dtype("bool" if L.name == "jax" else "float32")
    np.testing.assert_array_equal(np.asarray(got), [1, 1, 0, 0])
    flat, unravel = L.ravel_pytree((np.arange(2, dtype=np.float32), np.arange(2, dtype=np.int32)))
    if L.name == "jax":
        with pytest.raises(TypeError, match="expected dtype"):
            unravel(flat < 0.5)
    else:
        assert [np.dtype(v.dtype) for v in unravel(flat < 0.5)] == [np.float32, np.int32]
    return out


@case
def static_nodes_under_jit(L):
    assert L.tu.tree_leaves([StaticInt(1), StaticTuple((2, 3)), BlackBox(4)]) == []
    assert L.tu.tree_structure(StaticInt(1)) != L.tu.tree_structure(StaticInt(2))
    traces = []

    @L.jit
    def f(x, s):
        traces.append(s)
        return x + (s.value if isinstance(s, BlackBox) else tuple.__getitem__(s, 0)
                    if isinstance(s, tuple) else int(s))
    x = np.ones(2)
    got = [f(x, StaticInt(2)), f(2 * x, StaticInt(2)), f(x, StaticInt(4)),
           f(x, StaticTuple((2, None))), f(x, StaticTuple((2, None))),
           f(x, BlackBox(2)), f(3 * x, BlackBox(1))]
    assert len(traces) == 4  # one per distinct static value; every BlackBox is one
    np.testing.assert_array_equal(got[-1], 3 * x + 2)  # (the first BlackBox's value)

    @dataclasses.dataclass
    class WithArrayMeta:
        x: object = dataclasses.field(metadata={"static": True})
    L.tu.register_dataclass(WithArrayMeta)
    g = L.jit(lambda t: 1.0)
    g(WithArrayMeta(np.arange(4)))
    with pytest.raises(ValueError, match="(?i)compar|equality"):
        g(WithArrayMeta(np.arange(4)))  # its array meta field can't be compared
    return [np.asarray(v) for v in got]


# -- transforms take and give these trees -----------------------------------------------------


def _transform_tree(L, on):
    """A pytree of each kind with float leaves (arrays made by ``on``)."""
    a = lambda *v: on(np.array(v[0] if len(v) == 1 else v, dtype=float))  # noqa: E731
    return {"none": None, "empty": (), "list": [], "d": {"b": a(2.0), "a": a(1.0, 3.0)},
            "nt": ATuple(a(0.5), a(1.5)),
            "od": collections.OrderedDict([("z", a(1.0)), ("y", a(-2.0))]),
            "dd": collections.defaultdict(list, {"q": a(0.3)}),
            "obj": AnObject(a(1.0), [a(2.0)], "tag"), "sp": Special(a(0.7), a(-0.2)),
            "dc": ADataclassWithMeta((a(4.0),), a(0.25), 2)}


def _loss(L, t):
    # sum over leaves i of (i + 1) * sum(sin(leaf)): the gradient is (i + 1) cos(leaf)
    total = 0.0
    for i, leaf in enumerate(L.tu.tree_leaves(t)):
        total = L.np.sum(L.np.sin(leaf)) * (i + 1) + total
    return total


def _check_transforms(L, on, to_np):
    t = _transform_tree(L, on)
    leaves, treedef = L.tu.tree_flatten(t)
    np_leaves = [to_np(v) for v in leaves]
    g = L.grad(lambda t: _loss(L, t))(t)
    assert L.tu.tree_structure(g) == treedef
    assert type(g["dd"]) is collections.defaultdict and g["dd"].default_factory is list
    assert g["obj"].z == "tag" and g["dc"].z == 2 and g["none"] is None
    for i, (gl, x) in enumerate(zip(L.tu.tree_leaves(g), np_leaves)):
        np.testing.assert_allclose(to_np(gl), (i + 1) * np.cos(x), rtol=1e-13)
    tangent = L.tu.tree_map(lambda x: x * 0 + 1, t)
    out, dout = L.jvp(lambda t: L.tu.tree_map(L.np.sin, t), (t,), (tangent,))
    assert L.tu.tree_structure(dout) == treedef
    for d, x in zip(L.tu.tree_leaves(dout), np_leaves):
        np.testing.assert_allclose(to_np(d), np.cos(x), rtol=1e-13)
    y, pullback = L.vjp(lambda t: L.tu.tree_map(lambda v: v * v, t), t)
    (ct,) = pullback(tangent)
    assert L.tu.tree_structure(ct) == treedef
    # dot-product identity: <ct, t_in> = <1, J t_in> with J = diag(2 x), t_in = ones
    lhs = sum(float(np.sum(to_np(c))) for c in L.tu.tree_leaves(ct))
    assert abs(lhs - sum(float(np.sum(2 * x)) for x in np_leaves)) < 1e-12
    jitted = L.jit(lambda t: L.tu.tree_map(lambda v: v + 1, t))(t)
    assert L.tu.tree_structure(jitted) == treedef
    batched = L.tu.tree_map(lambda x: L.np.stack([x, 2 * x]), t)
    vm = L.vmap(lambda t: L.tu.tree_map(lambda v: v * 3, t))(batched)
    assert L.tu.tree_structure(vm) == treedef
    for v, x in zip(L.tu.tree_leaves(vm), np_leaves):
        np.testing.assert_allclose(to_np(v), np.stack([3 * x, 6 * x]), rtol=1e-15)
    p = L.tu.Partial(lambda w, x, c=None: w * x + c, on(np.array(2.0)), c=on(np.array(1.0)))
    gp = L.grad(lambda p, x: p(x))(p, 3.0)
    assert type(gp) is type(p) and float(to_np(gp.args[0])) == 3.0
    assert float(to_np(gp.keywords["c"])) == 1.0
    assert float(to_np(L.jit(lambda p, x: p(x))(p, 3.0))) == 7.0
    return g, dout, ct, jitted, vm


@case
def transforms_take_and_give_trees(L):
    return _check_transforms(L, lambda x: x, np.asarray)


@case
def axes_and_jacobians_over_trees(L):
    x = np.arange(6.0).reshape(3, 2)
    out = [L.vmap(lambda t: t.foo * 2 + t.bar, in_axes=(ATuple(0, None),))(
               ATuple(x, np.ones(2))),
           L.vmap(lambda d: d.x[0] @ d.y, in_axes=(ADataclass((0,), None),))(
               ADataclass((x,), np.ones(2))),
           L.vmap(lambda d: d["a"] + d["b"], in_axes=({"a": 1, "b": None},))(
               {"b": np.ones(2), "a": x.T}),
           L.vmap(lambda t: t, out_axes=ATuple(1, 0))(ATuple(x, x)),
           L.vmap(lambda a, n: a, in_axes=(0, None))(x, None)]
    np.testing.assert_array_equal(out[0], 2 * x + 1)
    np.testing.assert_array_equal(out[1], x.sum(1))
    np.testing.assert_array_equal(out[2], x + 1)
    np.testing.assert_array_equal(out[3].foo, x.T)
    jf = L.jacfwd(lambda d: {"y": d["a"] * d["b"]})({"a": 2.0, "b": 3.0})
    assert {k: float(v) for k, v in jf["y"].items()} == {"a": 3.0, "b": 2.0}
    jr = L.jacrev(lambda t: ATuple(t.foo * t.bar, t.foo))(ATuple(2.0, 3.0))
    assert type(jr) is ATuple and type(jr.foo) is ATuple
    assert [float(v) for v in L.tu.tree_leaves(jr)] == [3.0, 2.0, 1.0, 0.0]
    h = L.hessian(lambda d: d.x[0] ** 2 * d.y)(ADataclass((2.0,), 3.0))
    # d2/dx2 = 2y, d2/dxdy = 2x, d2/dy2 = 0
    assert [float(v) for v in L.tu.tree_leaves(h)] == [6.0, 4.0, 4.0, 0.0]
    return out, jf, jr, h


def test_transforms_take_and_give_trees_on_backends(backend):
    if backend.name == "numpy":
        pytest.skip("the numpy run is the case's own")
    out = _check_transforms(FT, backend.asarray, backend.to_numpy)
    assert all(backend.is_own(v) for v in ftree.leaves(out))


# -- dtypes: the promotion table ------------------------------------------------------------------

NAMES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
         "float16", "bfloat16", "float32", "float64", "complex64", "complex128"]
_SIGNED = {"int8", "int16", "int32", "int64"}


def _documented(a, b):
    """functrans's documented promotion of dtypes a and b (docs/api/numpy.md), written
    from NumPy's table: bool gives way to anything, an integer to a float (the float's
    dtype: the rule the standard leaves open), bfloat16 as a float with 8 mantissa bits;
    NumPy's answer elsewhere, except unsigned 64 with signed (no standard dtype holds both:
    a TypeError, None here)."""
    if a == b:
        return a
    kinds = {n: np.dtype(n).kind if n != "bfloat16" else "f" for n in (a, b)}
    if "bool" in (a, b):
        return b if a == "bool" else a
    if (kinds[a] in "iu") != (kinds[b] in "iu"):
        return a if kinds[a] in "fc" else b
    if {a, b} & {"uint64"} and {a, b} & _SIGNED:
        return None
    if "bfloat16" in (a, b):
        other = b if a == "bfloat16" else a
        return {"float16": "float32", "complex64": "complex64"}.get(other, other)
    return np.promote_types(a, b).name


@case
def promotion_table(L):
    out = {}
    d = lambda n: getattr(L.np, n if n != "bool" else "bool_")  # noqa: E731
    for a, b in itertools.product(NAMES, NAMES):
        want = _documented(a, b)
        if want is None and L.name == "functrans":
            with pytest.raises(TypeError, match="No type promotion"):
                L.np.result_type(d(a), d(b))
            out[a, b] = None
            continue
        got = L.np.result_type(d(a), d(b)).name
        assert L.dtypes.result_type(d(a), d(b)).name == got
        if want is None:  # JAX: float64 where functrans has no promotion
            assert got == "float64", (a, b, got)
            got = None
        assert got == want, (a, b, got, want)
        out[a, b] = got
    return out


@case
def promote_types_table(L):
    out = {}
    d = lambda n: getattr(L.np, n if n != "bool" else "bool_")  # noqa: E731
    for a, b in itertools.product(NAMES, NAMES):
        got = L.np.promote_types(d(a), d(b)).name
        assert got == L.np.promote_types(d(b), d(a)).name
        if "bfloat16" in (a, b):
            assert got == _documented(a, b)  # JAX's and torch's rule (NumPy has none)
        elif L.name == "functrans" or (np.dtype(a).kind in "iu") == (np.dtype(b).kind in "iu"):
            assert got == np.promote_types(a, b).name, (a, b)
        else:  # JAX: the lattice (int32 with float32 is float32); functrans: NumPy's table
            assert got == _documented(a, b), (a, b)
        if "bfloat16" not in (a, b) and np.promote_types(a, b).name != _documented(a, b):
            got = None  # (where the two differ)
        out[a, b] = got
    return out


def _pairs(names):
    return [(a, b) for a, b in itertools.product(names, names)
            if (a, b) != ("bool", "bool") and _documented(a, b) is not None]


def test_promotion_of_arrays_eager_and_jit(backend):
    """Every pair of dtypes the library has, through add, eagerly and under jit: the
    documented dtype (torch has no addition of uint16/32/64, array-api-strict no half
    floats; NumPy's bfloat16 is ml_dtypes', where that is installed)."""
    names = [n for n in NAMES if _has_dtype(backend, n)]
    if backend.name == "torch":
        names = [n for n in names if n not in ("uint16", "uint32", "uint64")]
    elif backend.name != "numpy":  # one representative on the others: the rule is shared
        names = ["bool", "int8", "uint8", "int64", "float32", "float64", "complex64"]
    xs = {n: fnp.astype(backend.asarray([1.0, 0.0]), getattr(fnp, n)) for n in names}
    pairs = _pairs(names)
    eager = [fnp.add(xs[a], xs[b]).dtype for a, b in pairs]
    staged = ft.jit(lambda xs: [fnp.add(xs[a], xs[b]) for a, b in pairs])(xs)
    for (a, b), e, s in zip(pairs, eager, staged):
        assert fdt.as_dtype(e) is fdt.as_dtype(s.dtype) is getattr(fnp, _documented(a, b)), \
            (a, b, e, s.dtype)
        assert backend.is_own(s)
    if "uint64" in names:
        with pytest.raises(TypeError, match="No type promotion between uint64 and int8"):
            fnp.add(xs["uint64"], xs["int8"])


def _has_dtype(backend, name):
    try:
        fnp.astype(backend.asarray([1.0]), getattr(fnp, name))
    except (TypeError, ValueError):
        return False
    return True


# Python scalars are weak: they take the array's dtype unless their kind is wider
_SCALARS = [True, 1, 1.0, 1j]


def _weak(dtype, s):
    """The documented dtype of an array of ``dtype`` with the Python scalar ``s``."""
    kind = "f" if dtype == "bfloat16" else np.dtype(dtype).kind
    if isinstance(s, bool):
        return dtype
    if isinstance(s, int):
        return "int64" if kind == "b" else dtype
    if isinstance(s, float):
        return dtype if kind in "fc" else "float64"
    if kind == "c":
        return dtype
    if kind == "f":  # (no complex half: complex64)
        return "complex128" if dtype == "float64" else "complex64"
    return "complex128"


@case
def weak_python_scalars(L):
    out = {}
    for name, s in itertools.product([n for n in NAMES if n != "bfloat16"], _SCALARS):
        x = np.ones(2, dtype=name)
        want = _weak(name, s)
        got = [L.np.add(x, s).dtype, L.np.add(s, x).dtype, L.np.result_type(x, s),
               L.jit(lambda v: v * s)(x).dtype, L.jit(lambda v, w: w + v)(x, s).dtype]
        assert all(np.dtype(g) == np.dtype(want) for g in got), (name, s, got, want)
        out[name, s] = want
    return out


def test_weak_python_scalars_on_backends(backend):
    names = ["int8", "uint8", "int32", "float32", "float64", "complex64"]
    if backend.name != "array_api_strict":  # (the standard has no arithmetic on bool)
        names += ["bool"]
    if backend.name == "torch":
        names += ["float16", "bfloat16"]
    for name, s in itertools.product(names, _SCALARS):
        x = fnp.astype(backend.asarray([1.0, 2.0]), getattr(fnp, name))
        want = getattr(fnp, _weak(name, s))
        # (eagerly a library's own operators would answer: functrans.numpy's functions)
        ops = [lambda v: fnp.multiply(v, s), lambda v: fnp.multiply(s, v),
               ft.jit(lambda v: v * s), ft.jit(lambda v: s * v),
               lambda v: fnp.where(fnp.equal(v, v), s, v),
               ft.jit(lambda v: fnp.where(v == v, v, s))]
        if name != "bool":  # (NumPy and torch refuse bool - bool)
            ops += [lambda v: fnp.add(v, s), lambda v: fnp.subtract(s, v),
                    ft.jit(lambda v: v - s), ft.jit(lambda v: s - v)]
        for op in ops:
            out = op(x)
            assert fdt.as_dtype(out.dtype) is want and backend.is_own(out), (name, s)


@case
def unary_promotion(L):
    """Functions of one integer or boolean array: functrans's documented dtypes (NumPy's for
    int32 and wider; float64 for every integer in the floating functions, where NumPy gives
    float16 for bool, int8 and uint8); JAX gives float32 (even with x64), keeps small
    integers in cumsum, squares a bool to int32, and its reciprocal of an integer is a
    float."""
    out = {}
    for name in ["bool", "int8", "uint8", "int32", "int64", "float16", "float32"]:
        x = np.arange(1, 4).astype(name)
        for fn in ["sin", "exp", "sqrt", "log1p", "mean", "var", "cumsum", "sum",
                   "reciprocal", "abs", "square", "floor"]:
            if name == "bool" and fn in ("abs", "floor", "reciprocal"):
                continue
            got = np.dtype(getattr(L.np, fn)(x).dtype)
            ref = np.dtype(getattr(np, fn)(x).dtype)
            floating = fn in ("sin", "exp", "sqrt", "log1p", "mean", "var")
            if np.dtype(name).kind in "bi" + "u" and floating:
                ref = np.dtype("float64")  # (the documented rule)
            if L.name == "functrans":
                assert got == ref, (name, fn, got, ref)
            differs = name in ("bool", "int8", "uint8", "int32") and (
                floating or fn in ("cumsum", "reciprocal") and name != "bool") or \
                (name, fn) in (("int64", "reciprocal"), ("bool", "square"))
            # (None where JAX differs, on both runs: the differences are pinned one by one)
            out[name, fn] = None if differs else str(got)
    return out


@case
def default_dtypes_of_python_values(L):
    out = []
    for t, want in [(bool, "bool"), (int, "int64"), (float, "float64"),
                    (complex, "complex128")]:
        for y in (L.np.asarray(t(0)), L.jit(L.np.asarray)(t(0))):
            assert np.dtype(y.dtype) == np.dtype(want) and np.ndim(y) == 0
        staged = L.jit(lambda x: x)(t(0))
        if L.name == "jax":
            assert np.dtype(staged.dtype) == np.dtype(want)
        else:  # (documented: a result that depends on no array comes back as it is)
            assert type(staged) is t
        out.append(want)
    return out


@case
def numpy_scalars_and_0d_arrays_are_strong(L):
    out = []
    for s, name, want in [(np.float32(1), "int32", "float32"), (np.float32(1), "float16",
                                                                   "float32"),
                          (np.int32(1), "int8", "int32"), (np.float64(1), "float32",
                                                           "float64"),
                          (np.array(1.0), "float32", "float64"),
                          (np.array(1, np.int16), "int8", "int16")]:
        x = np.ones(2, dtype=name)
        got = L.np.add(x, s).dtype
        assert np.dtype(got) == np.dtype(want), (s, name, got)
        assert np.dtype(L.jit(lambda v, w: v + w)(x, s).dtype) == np.dtype(want)
        out.append(want)
    return out


@case
def arrays_made_from_python_numbers_are_strong(L):
    """Only Python numbers themselves are weak in functrans; JAX keeps the weak type on
    arrays made or computed from them (asarray(1.0), sin(1.0), a gradient at 3.0)."""
    x32 = L.np.asarray(np.ones(2, np.float32))
    made = [L.np.asarray(1.0), L.np.sin(1.0), L.grad(lambda x: x ** 2)(3.0)]
    want = "float32" if L.name == "jax" else "float64"
    for m in made:
        assert np.dtype((x32 + m).dtype) == np.dtype(want)
    assert np.dtype((x32 + L.jit(lambda: 2.0 * L.np.ones(()))()).dtype) == np.float64
    assert np.dtype((x32 + 2.0).dtype) == np.float32
    return [float(m) for m in made]


@case
def python_int_out_of_range(L):
    x = np.ones(2, dtype=np.int8)
    if L.name == "jax":  # JAX wraps the integer around (1000 is -24 in int8)
        assert int(L.np.add(x, 1000)[0]) == 1 + 1000 - 1024
        return None
    with pytest.raises(OverflowError):  # NumPy's error
        L.np.add(x, 1000)
    with pytest.raises(OverflowError):
        L.np.add(np.ones(2, np.uint8), -1)
    with pytest.raises(OverflowError):
        L.jit(lambda v: v + 300)(np.ones(2, np.uint8))
    return None


@case
def result_type_forms(L):
    assert L.np.result_type(1.0) == L.np.float64 and L.np.result_type(1, 1.0) == L.np.float64
    assert L.np.result_type(1, True) == L.np.int64
    assert L.np.result_type("float32", "int64") == L.np.float32
    assert L.dtypes.result_type(L.np.float32, 1.0) == L.np.float32
    assert L.dtypes.result_type(np.ones(2, np.int8), 1.5) == L.np.float64
    assert L.dtypes.result_type(1.0) == L.np.float64
    with pytest.raises(ValueError):
        L.np.result_type()
    # the Python type float: NumPy's float64 in functrans; weak in JAX (float32)
    want = "float32" if L.name == "jax" else np.result_type(np.float32, float).name
    assert L.np.result_type(L.np.float32, float).name == want
    return None


# -- can_cast, issubdtype, finfo, iinfo, canonicalize ------------------------------------------

@case
def can_cast_table(L):
    import array_api_strict as xps
    names = [n for n in NAMES if n not in ("float16", "bfloat16")]
    d = lambda n: getattr(L.np, n if n != "bool" else "bool_")  # noqa: E731
    out = {}
    for a, b in itertools.product(names, names):
        got = bool(L.np.can_cast(d(a), d(b)))
        std = bool(xps.can_cast(getattr(xps, a), getattr(xps, b)))
        if L.name == "jax":  # JAX allows NumPy's safe cross-kind casts (int8 to float32)
            assert got == bool(np.can_cast(a, b)), (a, b)
        else:
            assert got == std, (a, b)  # functrans: the standard's, as array-api-strict's
        got = got if std == bool(np.can_cast(a, b)) else None  # (None where they differ)
        for casting in ("no", "same_kind", "unsafe"):
            assert bool(L.np.can_cast(d(a), d(b), casting=casting)) == \
                bool(np.can_cast(a, b, casting=casting)), (a, b, casting)
        out[a, b] = got
    assert L.np.can_cast(L.np.float16, L.np.float32)
    assert not L.np.can_cast(L.np.float16, L.np.bfloat16)
    assert L.np.can_cast(np.ones(2, np.int8), L.np.int16)
    return out


@case
def issubdtype_table(L):
    cats = ["generic", "number", "inexact", "floating", "complexfloating", "integer",
            "signedinteger", "unsignedinteger", "bool_"]
    out = {}
    for n in NAMES:
        t = getattr(L.np, n if n != "bool" else "bool_")
        assert L.np.issubdtype(t, t) and L.dtypes.issubdtype(t, t)
        for c in cats:
            got = bool(L.np.issubdtype(t, getattr(L.np, c)))
            want = c in ("generic", "number", "inexact", "floating") if n == "bfloat16" \
                else bool(np.issubdtype(np.dtype(n), getattr(np, c)))
            assert got == want == bool(L.dtypes.issubdtype(t, getattr(L.np, c))), (n, c)
            out[n, c] = got
        if n != "bfloat16":
            assert L.np.issubdtype(np.dtype(n).type, t) and L.np.issubdtype(t, np.dtype(n))
    assert not L.np.issubdtype(L.np.float32, L.np.float64)
    assert L.np.issubdtype(float, L.np.floating) and L.np.issubdtype("float32", "float32")
    key = L.random.key(0).dtype  # typed keys' dtype: extended, under prng_key only
    for cat, want in [(L.dtypes.prng_key, True), (L.dtypes.extended, True), (key, True),
                      (L.np.floating, False), (L.np.integer, False), (np.generic, True)]:
        assert bool(L.dtypes.issubdtype(key, cat)) == want, cat
    assert not L.dtypes.issubdtype(L.np.float32, L.dtypes.extended)
    assert not L.dtypes.issubdtype(L.np.uint32, L.dtypes.prng_key)
    return out


@case
def finfo_and_iinfo(L):
    attrs = ["bits", "eps", "max", "min", "smallest_normal", "tiny", "smallest_subnormal",
             "epsneg", "precision", "nmant", "nexp", "machep", "negep", "minexp", "maxexp"]
    out = {}
    for n in ["float16", "float32", "float64", "complex64", "complex128", "bfloat16"]:
        f = L.np.finfo(getattr(L.np, n))
        if n == "bfloat16":  # 8 exponent bits, 7 stored mantissa bits
            ref = dict(bits=16, eps=2.0 ** -7, max=(2 - 2.0 ** -7) * 2.0 ** 127,
                       smallest_normal=2.0 ** -126, smallest_subnormal=2.0 ** -133,
                       epsneg=2.0 ** -8, precision=2, nmant=7, nexp=8, machep=-7, negep=-8,
                       minexp=-126, maxexp=128)
            ref.update(min=-ref["max"], tiny=ref["smallest_normal"])
            # 10**-precision rounded to bfloat16, as JAX's (torch's is 0.01)
            assert float(f.resolution) == 0.010009765625
        else:
            g = np.finfo(n)
            ref = {a: getattr(g, a) for a in attrs}
            assert float(f.resolution) == float(g.resolution)
            assert np.dtype(f.dtype) == np.dtype(n).type(0).real.dtype
        for a in attrs:
            assert float(getattr(f, a)) == float(ref[a]), (n, a)
        out[n] = [float(getattr(f, a)) for a in attrs]
    for n in ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]:
        i, g = L.np.iinfo(getattr(L.np, n)), np.iinfo(n)
        assert (i.bits, i.min, i.max) == (g.bits, g.min, g.max)
        out[n] = [i.bits, i.min, i.max]
    assert L.np.finfo(np.ones(2, np.float32)).eps == np.finfo(np.float32).eps
    assert L.np.finfo(float).bits == 64 and L.np.iinfo(int).bits == 64
    assert L.dtypes.finfo(L.np.float32).eps == np.finfo(np.float32).eps
    assert L.dtypes.iinfo(L.np.int8).max == 127
    for bad in [lambda: L.np.finfo(L.np.int32), lambda: L.np.iinfo(L.np.float32),
                lambda: L.np.iinfo(L.np.bool_)]:
        with pytest.raises(ValueError):
            bad()
    return out


@case
def canonicalize_and_scalar_types(L):
    cd = L.dtypes.canonicalize_dtype
    for given, want in [(float, "float64"), (int, "int64"), (bool, "bool"),
                        (complex, "complex128"), ("float32", "float32"),
                        (np.int8, "int8"), (np.dtype("uint16"), "uint16"),
                        (L.np.bfloat16, "bfloat16")]:
        assert cd(given) == (L.np.bfloat16 if want == "bfloat16" else np.dtype(want))
    with pytest.raises(TypeError):
        cd("not_a_dtype")
    bits = [L.dtypes.itemsize_bits(d) for d in (L.np.bool_, L.np.int8, L.np.bfloat16,
                                                  L.np.float32, L.np.complex128)]
    assert bits == [8, 8, 16, 32, 128]
    kinds = [L.dtypes.scalar_type_of(x) for x in (True, np.int8(1), np.ones(2, np.float32),
                                                  1j, np.uint8(3), 2.5)]
    assert kinds == [bool, int, float, complex, int, float]
    return bits


@case
def scalar_constructors_and_casts(L):
    out = []
    for n in ["bool_", "int32", "float32", "complex64", "float16"]:
        a = getattr(L.np, n)(1)
        assert L.np.ndim(a) == 0 and np.dtype(a.dtype) == np.dtype(n.rstrip("_"))
        b = L.np.asarray(np.array([1, 2.5, -3.7])).astype(getattr(L.np, n))
        assert np.dtype(b.dtype) == np.dtype(n.rstrip("_"))
        out.append(np.asarray(b))
    # a dtype's constructor takes a tracer (under jit) and casts it
    assert int(L.jit(lambda x: L.np.int32(x))(np.float32(101.4))) == 101
    import enum

    class AnEnum(enum.IntEnum):
        A = 42
    assert int(L.np.asarray(AnEnum.A)) == 42 and int(L.np.int32(AnEnum.A)) == 42
    return out


def test_dtype_objects():
    assert pickle.loads(pickle.dumps(fnp.float32)) is fnp.float32
    assert pickle.loads(pickle.dumps(fnp.bfloat16)) is fnp.bfloat16
    assert fnp.float64 == np.float64 and fnp.float64 == np.dtype("float64")
    assert fnp.float64 == "float64" and fnp.float64 != fnp.float32
    assert fdt.canonicalize_dtype(ft.random.key(0).dtype, allow_extended_dtype=True) is \
        ft.random.key(0).dtype
    with pytest.raises(ValueError, match="allow_extended_dtype=True"):
        fdt.canonicalize_dtype(ft.random.key(0).dtype)
    with pytest.raises(ValueError, match="casting must be one of"):
        fnp.can_cast(fnp.int8, fnp.int16, casting="sometimes")


def test_dtype_functions_take_native_dtypes(backend):
    native = backend.backend.native_dtype
    names = ["bool", "int8", "uint8", "float32", "complex64"] + (
        ["float16", "bfloat16"] if backend.name == "torch" else [])
    for n in names:
        d, f = native(n), getattr(fnp, n)
        assert fdt.canonicalize_dtype(d) is f and fnp.isdtype(d, f)
        assert fdt.itemsize_bits(d) == f.bits
        assert fnp.issubdtype(d, fnp.floating) == (n[0] == "f" or n == "bfloat16")
        for other in ("int8", "float32"):
            assert fnp.result_type(d, native(other)) is fdt.result_type(f, getattr(fnp, other))
            assert fnp.can_cast(d, native(other)) == fnp.can_cast(f, getattr(fnp, other))
        if f.kind in "fc":
            assert fnp.finfo(d).eps == fnp.finfo(f).eps
        elif f.kind in "iu":
            assert fnp.iinfo(d).max == fnp.iinfo(f).max
        x = fnp.astype(backend.asarray([1.0, 0.0]), d)
        assert fdt.dtype_of(x) is f and fnp.result_type(x, 1.5) is fdt.scalar_result(f, 1.5)


# -- creation functions' dtype= -------------------------------------------------------------------

CREATORS = {
    "zeros": lambda m, d: m.zeros(3, dtype=d), "ones": lambda m, d: m.ones((2,), dtype=d),
    "empty": lambda m, d: m.empty(2, dtype=d), "full": lambda m, d: m.full(3, 1, dtype=d),
    "full_true": lambda m, d: m.full(2, True, dtype=d),
    "full_half": lambda m, d: m.full(2, 1.5, dtype=d),
    "arange": lambda m, d: m.arange(3, dtype=d), "arange_f": lambda m, d: m.arange(3.0, dtype=d),
    "eye": lambda m, d: m.eye(2, dtype=d), "identity": lambda m, d: m.identity(2, dtype=d),
    "tri": lambda m, d: m.tri(2, dtype=d),
    "linspace": lambda m, d: m.linspace(0, 4, 3, dtype=d),
    "asarray_mixed": lambda m, d: m.asarray([1, 2.0], dtype=d),
    "asarray_ints": lambda m, d: m.asarray([1, 2], dtype=d),
    "asarray_bools": lambda m, d: m.asarray([True], dtype=d),
    "asarray_complex": lambda m, d: m.asarray(1j, dtype=d),
    "array_f32": lambda m, d: m.array(np.ones(2, np.float32), dtype=d),
    "zeros_like": lambda m, d: m.zeros_like(np.ones(2, np.int32), dtype=d),
    "full_like": lambda m, d: m.full_like(np.ones(2, np.float32), 2, dtype=d),
}


@case
def creation_dtypes(L):
    out = {}
    for dt in [None, "float32", "int32", "uint8", "complex64", "float16", float, int, bool,
               complex, np.dtype("int16")]:
        for name, make in CREATORS.items():
            try:
                ref = make(np, dt)
            except TypeError:  # (arange of bools: NumPy's and JAX's refusal)
                with pytest.raises(TypeError):
                    make(L.np, dt)
                continue
            want = np.dtype(ref.dtype)
            if L.name == "jax" and name == "tri" and dt is None:
                want = np.dtype("float32")  # (JAX's, even with x64; NumPy's is float64)
            for m_dt in ([dt, getattr(L.np, dt)] if isinstance(dt, str) else [dt]):
                got = make(L.np, m_dt)
                assert np.dtype(got.dtype) == want, (name, dt, got.dtype, want)
            staged = L.jit(lambda: make(L.np, dt))()
            assert np.dtype(staged.dtype) == want, (name, dt)
            if name != "empty":
                np.testing.assert_array_equal(np.asarray(got), ref.astype(want))
            out[name, str(dt)] = None if (name, dt) == ("tri", None) else str(want)
    return out


def test_creation_dtypes_on_backends(backend):
    if backend.name == "numpy":
        pytest.skip("the numpy run is the case's own")
    like = backend.asarray([0.0])
    native = backend.backend.native_dtype if hasattr(backend.backend, "native_dtype") else None
    for dt in ["float32", "int32", "bool", "complex64"]:
        for d in [getattr(fnp, dt)] + ([native(dt)] if native else []):
            for make in [lambda: fnp.zeros(3, dtype=d, like=like),
                         lambda: fnp.full(2, 1, dtype=d, like=like),
                         lambda: fnp.arange(3, dtype=d, like=like) if dt != "bool" else
                         fnp.ones(3, dtype=d, like=like),
                         lambda: fnp.asarray([1, 0], dtype=d, like=like),
                         lambda: fnp.zeros_like(like, dtype=d)]:
                got = make()
                assert backend.is_own(got) and fdt.as_dtype(got.dtype) is getattr(fnp, dt)


# -- the cases on functrans, and side by side with JAX ------------------------------------------

@pytest.mark.parametrize("name", list(CASES))
def test_case(name):
    CASES[name](FT)


@pytest.mark.parametrize("name", list(CASES))
def test_case_same_as_jax(name, JX):
    _same(CASES[name](FT), CASES[name](JX))
