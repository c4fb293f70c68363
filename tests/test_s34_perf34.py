"""perf34: short paths for the fixed per-call cost of the transforms give what the generic
paths give (pytrees of one leaf, tuples and lists of leaves, Python scalars, integer inputs,
types registered as pytree nodes after being seen as leaves)."""

import collections

import numpy as np
import optree
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import tree as T


def _optree_flatten(tree):
    return optree.tree_flatten(tree, none_is_leaf=False, namespace=T.NAMESPACE)


_P = collections.namedtuple("_P", "a b")
_P1 = collections.namedtuple("_P1", "a")
_X = np.asarray(0.5)
_V = np.array([1.0, 2.0])


@pytest.mark.parametrize("tree", [
    _X, _V, np.float64(2.0), np.float32(1.5), 1.0, 3, True, 2j, "s",
    (_X,), (_X, _V), [_X, 1.0], [], (), {}, (_X, None), (None,), [(_X,)], (_P(_X, _V),),
    _P(_X, 1.0), {"a": _X}, {"b": _V, "a": (_X, 2.0)}, None, ({},), ([],),
    (_P1(_X), _V), [_P1(_V), [_X]], _P1(_X), ([_X], _V), [_X],
])
def test_flatten_and_unflatten_as_optree(tree):
    for _ in range(3):  # (the first call learns the leaf types, the later ones use them)
        leaves, spec = T.tree_flatten(tree)
        ref_leaves, ref_spec = _optree_flatten(tree)
        assert spec == ref_spec
        assert len(leaves) == len(ref_leaves)
        assert all(a is b for a, b in zip(leaves, ref_leaves))
        back = T.tree_unflatten(spec, list(leaves))
        ref_back = ref_spec.unflatten(list(ref_leaves))
        assert type(back) is type(ref_back)
        assert T.tree_structure(back) == T.tree_structure(ref_back)
        assert T.tree_map(lambda a: a, tree) is not None or tree is None
        assert T.tree_structure(T.tree_map(lambda a: a, tree)) == ref_spec


def test_one_leaf_containers_are_not_taken_for_leaves():
    # (_P1(x), y) flattens to as many leaves as it has elements: its elements' types are not
    # leaf types for that
    for tree in [(_P1(_X), _V), ([_X], _V), ({"a": _X}, _V), ((_X,), _V)]:
        T.tree_flatten(tree)
        T.tree_flatten(tree)
    for node in [_P1(_X), [_X], {"a": _X}, (_X,)]:
        leaves, spec = T.tree_flatten(node)
        assert leaves == [_X] and spec == _optree_flatten(node)[1] and spec.num_nodes == 2


def test_flattened_leaves_are_a_fresh_list():
    tree = (_X, _V)
    leaves, _ = T.tree_flatten(tree)
    leaves[0] = 1.0
    assert T.tree_flatten(tree)[0][0] is _X


def test_unflatten_with_the_wrong_number_of_leaves_raises_as_optree():
    for tree in (_X, (_X,), (_X, _V), [_X], {}):
        spec = T.tree_flatten(tree)[1]
        n = spec.num_leaves
        with pytest.raises(ValueError):
            T.tree_unflatten(spec, [_X] * (n + 1))
    # leaves given as another iterable than a list: optree's own path
    spec = T.tree_flatten((_X, _V))[1]
    assert T.tree_unflatten(spec, iter([_V, _X]))[0] is _V


def test_a_type_seen_as_a_leaf_then_registered_is_a_node():
    class Box:
        def __init__(self, v):
            self.v = v

    b = Box(_X)
    assert T.tree_flatten(b)[0] == [b]
    assert T.tree_flatten((b,))[0] == [b]
    T.register_pytree_node(Box, lambda o: ((o.v,), None), lambda aux, ch: Box(ch[0]))
    try:
        leaves, spec = T.tree_flatten(b)
        assert leaves == [_X] and spec == _optree_flatten(b)[1]
        assert T.tree_flatten((b, _V))[0] == [_X, _V]
        assert T.tree_map(lambda a: a + 1, b).v == 1.5
        g = ft.grad(lambda box: fnp.sum(box.v * 3.0))(Box(np.asarray(2.0)))
        assert type(g) is Box and float(g.v) == 3.0
    finally:
        optree.unregister_pytree_node(Box, namespace=T.NAMESPACE)
    assert T.tree_flatten(b)[0] == [b]


def test_a_type_registered_globally_after_being_a_leaf():
    class Cell:
        def __init__(self, v):
            self.v = v

    c = Cell(1.0)
    assert T.tree_flatten([c, c])[0] == [c, c]
    everywhere = vars(optree.registry)["__GLOBAL_NAMESPACE"]  # (optree's global registry)
    optree.register_pytree_node(Cell, lambda o: ((o.v,), None), lambda aux, ch: Cell(*ch),
                                namespace=everywhere)
    try:
        assert T.tree_flatten([c, c])[0] == [1.0, 1.0]
        assert T.tree_flatten(c)[0] == [1.0]
    finally:
        optree.unregister_pytree_node(Cell, namespace=everywhere)
    assert T.tree_flatten(c)[0] == [c]


def test_tree_map_of_a_leaf_with_more_trees():
    # a leaf is a prefix of any tree: the others are passed whole, as optree does
    out = T.tree_map(lambda a, b: (a, b), _X, {"k": (1, 2)})
    ref = optree.tree_map(lambda a, b: (a, b), _X, {"k": (1, 2)}, namespace=T.NAMESPACE)
    assert out[0] is ref[0] and out[1] == ref[1]


def test_short_paths_taken():
    # the common trees come back with a structure made once (no optree call per flatten)
    T.tree_flatten(_X), T.tree_flatten((_X, _V))
    assert T.tree_flatten(_X)[1] is T.tree_flatten(_V)[1]
    assert T.tree_flatten((_X, _V))[1] is T.tree_flatten((_V, _X))[1]
    assert T.tree_flatten({})[1] is T.tree_flatten({})[1]


@pytest.mark.parametrize("x", [np.asarray(0.5), np.float64(0.5), 0.5, np.asarray(0.5, np.float32),
                               np.array([0.5, -1.0])])
def test_grad_results_are_arrays_of_the_inputs_kind(x):
    f = ft.value_and_grad(lambda a: fnp.sum(fnp.tanh(a)))
    for _ in range(3):  # (the later calls convert NumPy scalars by the remembered as_array)
        v, g = f(x)
        assert type(v) is np.ndarray and type(g) is np.ndarray
        assert v.shape == () and g.shape == np.shape(x)
        dt = np.asarray(x).dtype if not isinstance(x, float) else np.float64
        assert g.dtype == dt and v.dtype == dt
        np.testing.assert_allclose(g, 1 - np.tanh(np.asarray(x, np.float64)) ** 2, rtol=1e-6)


def test_gradient_equal_to_a_closed_over_array_is_a_copy():
    y = np.array([1.0, 2.0, 3.0])
    for _ in range(2):
        g = ft.grad(lambda x: fnp.sum(x * y))(np.zeros(3))
        assert not np.shares_memory(g, y)
        np.testing.assert_array_equal(g, y)
    y0 = np.asarray(2.0)
    g = ft.grad(lambda x: x * y0)(np.asarray(1.0))
    assert g is not y0 and float(g) == 2.0


@pytest.mark.parametrize("transform", [ft.grad, ft.jacfwd, ft.jacrev, ft.hessian])
def test_integer_inputs_still_refused(transform):
    from functrans.errors import IntegerInputError
    f = transform(lambda a: fnp.tanh(a * 1.0))
    for _ in range(2):
        with pytest.raises(IntegerInputError, match="int64"):
            f(np.asarray(3))
        with pytest.raises(IntegerInputError):
            f(3)
