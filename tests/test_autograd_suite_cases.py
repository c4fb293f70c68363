"""autograd's own test cases, run through functrans.autograd.

The cases (which functions, at which argument shapes and values, differentiated with
respect to which arguments, to which order, and which behaviours are asserted) follow the
test suite of HIPS/autograd: tests/test_systematic.py and numpy_utils.py (the statistics,
unary and binary ufunc sweeps and the combination checks), test_numpy.py, test_linalg.py,
test_scipy.py, test_fft.py, test_wrappers.py, test_core.py, test_dict.py, test_list.py,
test_tuple.py, test_jacobian.py, test_builtins.py, test_complex.py, test_logic.py,
test_binary_ops.py, test_scalar_ops.py, test_truediv.py, test_direct.py, test_misc.py,
test_graphs.py, test_vspaces.py, test_flatten.py and test_numpy_interp.py (and the later
versions of test_systematic.py, test_linalg.py, test_scalar_ops.py and test_wrappers.py).
The code here is our own: each case is an entry of a table, run through
``functrans.autograd.test_util.check_grads`` (forward and reverse mode, to the second order,
autograd's defaults) and, where cheap, side by side with the real autograd (its value and
the gradient of a fixed weighted sum of its output; left out where autograd is not
installed). Where the two disagree and ours is right (checked against
finite differences), or the difference is documented, a test pins our behaviour.
"""

from __future__ import annotations

import importlib
import itertools
import operator as op

import numpy as onp
import pytest

import functrans.autograd as fa
import functrans.autograd.numpy as fanp
from functrans.autograd.test_util import check_grads

_R = onp.random.RandomState(0)


def R(*shape):
    return _R.randn(*shape)


def U(lo, hi, *shape):
    """Uniform on [lo, hi): autograd's ``transform(lims, rand(...))``."""
    return lo + (hi - lo) * _R.rand(*shape)


def _ag_np(required=False):
    """autograd.numpy; where autograd is not installed, None (the comparisons are left
    out and the numerical checks still run), or a skip for the tests about autograd itself."""
    try:
        return importlib.import_module("autograd.numpy")
    except ImportError:
        if required:
            pytest.skip("autograd is not installed")
        return None


def _real_loss(np, fun, nums, args, kwargs, weights):
    """A real scalar of ``fun``'s output(s), weighted by fixed numbers, as a function of the
    arguments ``nums`` (the others fixed)."""
    def loss(*xs):
        full = list(args)
        for i, x in zip(nums, xs):
            full[i] = x
        out = fun(*full, **kwargs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        total = 0.0
        for o, (wr, wi) in zip(outs, weights):
            total = total + np.sum(np.real(o) * wr) + np.sum(np.imag(o) * wi)
        return total
    return loss


def _weights(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    rng = onp.random.RandomState(1)
    return [(rng.randn(*onp.shape(o)), rng.randn(*onp.shape(o))) for o in outs]


def compare_with_autograd(make, args, nums, kwargs=None, tol=1e-10):
    """Value and gradient (of a weighted sum of the output) agree with autograd's."""
    agnp = _ag_np()
    if agnp is None:
        return
    import autograd
    kwargs = kwargs or {}
    try:
        theirs_f = make(agnp)
    except AttributeError:
        return  # newer than the installed autograd (norm.ppf): checked numerically only
    ours_f = make(fanp)
    ours, theirs = ours_f(*args, **kwargs), theirs_f(*args, **kwargs)
    _assert_close(ours, theirs, tol)
    w = _weights(theirs)
    g_ours = fa.grad(_real_loss(fanp, ours_f, nums, args, kwargs, w), tuple(range(len(nums))))(
        *[args[i] for i in nums])
    g_theirs = autograd.grad(_real_loss(agnp, theirs_f, nums, args, kwargs, w),
                             tuple(range(len(nums))))(*[args[i] for i in nums])
    _assert_close(g_ours, g_theirs, tol)


def _assert_close(a, b, tol):
    if isinstance(b, (tuple, list)):
        assert isinstance(a, (tuple, list)) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_close(x, y, tol)
        return
    a_, b_ = onp.asarray(a), onp.asarray(b)
    assert a_.shape == b_.shape, (a_.shape, b_.shape)
    onp.testing.assert_allclose(a_, b_, rtol=tol, atol=tol)


def _shape_of(a):
    if isinstance(a, (tuple, list)) and not all(isinstance(v, (int, float)) for v in a):
        return type(a)(_shape_of(v) for v in a)
    return onp.shape(a)


def _run(make, nums, arg_lists, kw_lists=None, *, order=2, modes=("fwd", "rev"),
         compare=True, tol=1e-10):
    """autograd's ``combo_check``: every combination of the candidate arguments and keyword
    arguments; every failure is collected and reported together. ``compare``: whether to
    compare with autograd too, or the function (np -> fun) to compare instead."""
    kw_lists = kw_lists or {}
    names = list(kw_lists)
    fun = make(fanp)
    failures = []
    for args in itertools.product(*arg_lists):
        for kvals in itertools.product(*(kw_lists[n] for n in names)):
            kwargs = dict(zip(names, kvals))
            where = f"shapes {[_shape_of(a) for a in args]} kwargs {kwargs}"
            try:
                check_grads(fun, tuple(nums), modes=list(modes), order=order)(*args, **kwargs)
                if compare:
                    compare_with_autograd(make if compare is True else compare, args, nums,
                                          kwargs, tol)
            except Exception as e:  # noqa: BLE001 -- collected and reported below
                failures.append(f"{where}: {type(e).__name__}: {str(e)[:300]}")
    assert not failures, "\n".join(failures)


# -- test_systematic.py / numpy_utils.py ---------------------------------------------------

def _stat_inputs():
    x, a = 3.5, R()
    b, c, d = R(3), R(2, 3), R(1, 3)
    cz = R() + 0.1j * R()
    e = R(2, 3) + 0.1j * R(2, 3)
    return [([x, a], {}),
            ([b, c, d], {"axis": [None, 0], "keepdims": [True, False]}),
            ([c, d], {"axis": [None, 0, 1], "keepdims": [True, False]}),
            ([x, cz, a], {}),
            ([b, c, d, e], {"axis": [None, 0], "keepdims": [True, False]})]


STAT_FUNS = ["max", "min", "mean", "sum", "prod", "var", "std", "all", "any"]


@pytest.mark.parametrize("name", STAT_FUNS)
def test_stat(name):
    for values, kws in _stat_inputs():
        _run(lambda np: getattr(np, name), [0], [values], kws)


UNARY = [  # (name, limits, complex inputs too)
    ("sin", (-2, 2), True), ("abs", (0.1, 4.0), True), ("absolute", (0.1, 4.0), True),
    ("arccosh", (1.1, 4.0), True), ("arcsinh", (-0.9, 0.9), True),
    ("arctanh", (-0.9, 0.9), True), ("ceil", (-1.5, 1.5), False), ("cos", (-2, 2), True),
    ("cosh", (-2, 2), True), ("deg2rad", (-2, 2), False), ("degrees", (-2, 2), False),
    ("exp", (-2, 2), True), ("exp2", (-2, 2), True), ("expm1", (-2, 2), True),
    ("fabs", (-2, 2), False), ("floor", (-1.5, 1.5), False), ("log", (0.2, 2.0), True),
    ("log10", (0.2, 2.0), True), ("log1p", (0.2, 2.0), True), ("log2", (0.2, 2.0), True),
    ("rad2deg", (-2, 2), False), ("radians", (-2, 2), False), ("sign", (-2, 2), True),
    ("sinh", (-2, 2), True), ("sqrt", (1.0, 3.0), True), ("square", (-2, 2), False),
    ("tan", (-1.1, 1.1), True), ("tanh", (-2, 2), True), ("real", (-2, 2), True),
    ("real_if_close", (-2, 2), True), ("imag", (-2, 2), True), ("conj", (-2, 2), True),
    ("angle", (-2, 2), True),
]


@pytest.mark.parametrize("name,lims,cplx", UNARY, ids=[u[0] for u in UNARY])
def test_unary_ufunc(name, lims, cplx):
    lo, hi = lims
    reals = [U(lo, hi), U(lo, hi, 2), U(lo, hi, 3, 2), U(lo, hi, 1, 2)]
    make = lambda np: getattr(np, name)  # noqa: E731
    _run(make, [0], [reals])
    if cplx:
        comps = [U(lo, hi) + 0.1j * U(lo, hi), U(lo, hi, 3, 2) + 0.1j * _R.rand(3, 2)]
        # sign(z) = z / |z| for complex z (NumPy 2): autograd differentiates it as a
        # constant (a zero gradient); ours is checked numerically and pinned below
        _run(make, [0], [comps], compare=name != "sign")


def test_sign_of_complex_has_the_derivative_of_z_over_abs_z():
    z = onp.array([0.3 + 0.4j, -1.0 + 2.0j])
    w = onp.array([0.7, -1.3])

    def loss(np):
        return lambda z: np.sum(np.real(np.sign(z)) * w + np.imag(np.sign(z)))
    ours = fa.grad(loss(fanp))(z)
    direct = fa.grad(lambda z: loss(fanp)(z) * 0 + fanp.sum(fanp.real(z / fanp.abs(z)) * w
                                                          + fanp.imag(z / fanp.abs(z))))(z)
    onp.testing.assert_allclose(ours, direct, rtol=1e-12)
    assert onp.all(onp.abs(ours) > 0.05)
    agnp = _ag_np(required=True)
    import autograd
    onp.testing.assert_array_equal(autograd.grad(loss(agnp))(z), 0)


def _binary_values(la, lb, same_args):
    def pair():
        a = [U(*la), U(*la, 2), U(*la, 3, 2), U(*la, 1, 2)]
        b = [U(*lb), U(*lb, 2), U(*lb, 3, 2), U(*lb, 1, 2)]
        return a, b
    if same_args:
        # autograd transforms the same draws for both sides: f(x, x)-like coincidences
        s, v, m, m2 = 0.6, _R.rand(2), _R.rand(3, 2), _R.rand(1, 2)
        t = lambda lim, x: lim[0] + (lim[1] - lim[0]) * x  # noqa: E731
        return ([t(la, s), t(la, v), t(la, m), t(la, m2)],
                [t(lb, s), t(lb, v), t(lb, m), t(lb, m2)])
    return pair()


def _complex_values(la, lb):
    t = lambda lim, x: lim[0] + (lim[1] - lim[0]) * x  # noqa: E731
    c, mc = 0.6 + 0.3j, _R.rand(3, 2) + 0.1j * _R.rand(3, 2)
    s, v, m2 = 0.6, _R.rand(2), _R.rand(1, 2)
    return ([t(la, s), t(la, c), t(la, v), t(la, mc), t(la, m2)],
            [t(lb, s), t(lb, c), t(lb, v), t(lb, mc), t(lb, m2)])


BINARY = [  # (id, np -> fun, lims_A, lims_B, complex too, the same draws for both)
    ("add", lambda np: np.add, (-2, 2), (-2, 2), True, True),
    ("logaddexp", lambda np: np.logaddexp, (-2, 2), (-2, 2), False, True),
    ("logaddexp2", lambda np: np.logaddexp2, (-2, 2), (-2, 2), False, True),
    ("remainder", lambda np: np.remainder, (-0.9, 0.9), (0.7, 1.9), False, False),
    ("true_divide", lambda np: np.true_divide, (-2, 2), (0.3, 2.0), False, True),
    ("mod", lambda np: np.mod, (-2, 2), (0.8, 2.1), False, False),
    ("true_divide_neg", lambda np: np.true_divide, (-2, 2), (-0.3, -2.0), False, True),
    ("mod_neg", lambda np: np.mod, (-2, 2), (-0.3, -2.0), False, False),
    ("op_mul", lambda np: op.mul, (-2, 2), (-2, 2), True, True),
    ("op_add", lambda np: op.add, (-2, 2), (-2, 2), True, True),
    ("op_sub", lambda np: op.sub, (-2, 2), (-2, 2), True, True),
    ("op_mod", lambda np: op.mod, (-2, 2), (0.3, 2.0), False, False),
    ("op_mod_neg", lambda np: op.mod, (-2, 2), (-0.3, -2.0), False, False),
    ("op_truediv", lambda np: op.truediv, (-2, 2), (0.5, 2.0), True, True),
    ("op_pow", lambda np: op.pow, (0.7, 2.0), (-2, 2), True, True),
]


@pytest.mark.parametrize("make,la,lb,cplx,same", [b[1:] for b in BINARY],
                         ids=[b[0] for b in BINARY])
def test_binary_ufunc(make, la, lb, cplx, same):
    _run(make, [0, 1], _binary_values(la, lb, same))
    if cplx:
        _run(make, [0, 1], _complex_values(la, lb))


COMBOS = [  # (id, np -> fun, argnums, candidate positional arguments, candidate kwargs)
    ("transpose", lambda np: np.transpose, [0], [[R(2, 3, 4)]],
     {"axes": [None, [0, 1, 2], [0, 2, 1], [2, 0, 1], [2, 1, 0], [1, 0, 2], [1, 2, 0]]}),
    ("dot", lambda np: np.dot, [0, 1], [[1.5, R(3), R(2, 3)], [0.3, R(3), R(3, 4)]], {}),
    ("tensordot_1", lambda np: np.tensordot, [0, 1],
     [[R(1, 3), R(2, 3, 2)], [R(3), R(3, 1), R(3, 4, 2)]], {"axes": [[(1,), (0,)]]}),
    ("tensordot_2", lambda np: np.tensordot, [0, 1],
     [[R(3), R(3, 1), R(3, 4, 2)], [R(1, 3), R(2, 3, 2)]], {"axes": [[(0,), (1,)]]}),
    ("tensordot_3", lambda np: np.tensordot, [0, 1],
     [[R(2, 3), R(2, 3, 4)], [R(1, 2, 3), R(2, 2, 3, 4)]],
     {"axes": [[(0, 1), (1, 2)], [(1, 0), (2, 1)]]}),
    ("tensordot_4", lambda np: np.tensordot, [0, 1],
     [[R(2, 2), R(4, 2, 2)], [R(2, 2), R(2, 2, 4)]], {"axes": [1, 2]}),
    ("maximum", lambda np: np.maximum, [0, 1],
     [[R(1), R(1, 4), R(3, 4)], [R(1), R(1, 4), R(3, 4)]], {}),
    ("minimum", lambda np: np.minimum, [0, 1],
     [[R(1), R(1, 4), R(3, 4)], [R(1), R(1, 4), R(3, 4)]], {}),
    ("sort", lambda np: np.sort, [0], [[R(1), R(7)]], {}),
    ("partition", lambda np: np.partition, [0], [[R(7), R(14)]], {"kth": [0, 3, 6]}),
    ("atleast_1d", lambda np: np.atleast_1d, [0],
     [[1.2, R(1), R(7), R(1, 4), R(2, 4), R(2, 4, 5)]], {}),
    ("atleast_2d", lambda np: np.atleast_2d, [0],
     [[1.2, R(1), R(7), R(1, 4), R(2, 4), R(2, 4, 5)]], {}),
    ("atleast_3d", lambda np: np.atleast_3d, [0],
     [[1.2, R(1), R(7), R(1, 4), R(2, 4), R(2, 4, 5), R(2, 4, 3, 5)]], {}),
    ("einsum_transpose", lambda np: np.einsum, [1], [["ij->ji"], [R(1, 1), R(4, 4), R(3, 4)]],
     {}),
    ("einsum_matmult", lambda np: np.einsum, [1, 2], [["ij,jk->ik"], [R(2, 3)], [R(3, 4)]], {}),
    ("einsum_covsum", lambda np: np.einsum, [1, 2],
     [["ijk,lji->lki"], [R(3, 4, 4)], [R(4, 4, 3)]], {}),
    ("einsum_ellipses", lambda np: np.einsum, [1, 2],
     [["...jk,...lj->...lk", "...,...->..."], [R(3, 4, 4)], [R(3, 4, 4)]], {}),
    ("einsum_three_args", lambda np: np.einsum, [1, 2],
     [["ijk,lji,lli->lki"], [R(3, 4, 4)], [R(4, 4, 3)], [R(4, 4, 3)]], {}),
    ("trace", lambda np: np.trace, [0], [[R(5, 5), R(4, 5), R(5, 4)]], {"offset": [-1, 0, 1]}),
]


@pytest.mark.parametrize("make,nums,arg_lists,kws", [c[1:] for c in COMBOS],
                         ids=[c[0] for c in COMBOS])
def test_combination(make, nums, arg_lists, kws):
    _run(make, nums, arg_lists, kws)


# -- test_numpy.py -----------------------------------------------------------------------------
# (id, np -> fun, args, argnums): check_grads with autograd's defaults (argnum 0 unless given)

def _numpy_cases():
    m1, m2, v10, v11a, v11b = R(10, 11), R(10, 11), R(10), R(11), R(11)
    a564, a3 = R(5, 6, 4), R(3, 2)
    c32, c10 = R(3, 2), R(10)
    cond = R(4, 5) > 0
    mask_inds = onp.ones(5)[:, None]
    shifted = onp.array([0., onp.nan, onp.inf, -onp.inf])
    return [
        ("dot_mat_vec", lambda np: np.dot, (m1, v11a), [0]),
        ("dot_mat_mat", lambda np: np.dot, (m1, m2.T), [0]),
        ("dot_vec_mat", lambda np: np.dot, (v10, m1), [0]),
        ("dot_vec_vec", lambda np: np.dot, (v11a, v11b), [0]),
        ("dot_mat_float", lambda np: np.dot, (m1, R()), [0]),
        ("dot_float_mat", lambda np: np.dot, (R(), m1), [0]),
        ("dot_vec_float", lambda np: np.dot, (v10, R()), [0]),
        ("dot_float_vec", lambda np: np.dot, (R(), v10), [0]),
        ("outer", lambda np: np.outer, (v11a, v11b), [0]),
        ("max", lambda np: np.max, (R(10, 11),), [0]),
        ("max_axis", lambda np: lambda x: np.max(x, axis=1), (R(3, 4, 5),), [0]),
        ("max_axis_keepdims", lambda np: lambda x: np.max(x, axis=1, keepdims=True),
         (R(3, 4, 5),), [0]),
        ("min", lambda np: np.min, (R(10, 11),), [0]),
        ("min_axis", lambda np: lambda x: np.min(x, axis=1), (R(3, 4, 5),), [0]),
        ("min_axis_keepdims", lambda np: lambda x: np.min(x, axis=1, keepdims=True),
         (R(3, 4, 5),), [0]),
        ("sum", lambda np: np.sum, (R(10, 11),), [0]),
        ("sum_axis0", lambda np: lambda x: np.sum(x, axis=0), (R(10, 11),), [0]),
        ("sum_axis0_keepdims", lambda np: lambda x: np.sum(x, axis=0, keepdims=True),
         (R(10, 11),), [0]),
        ("sum_axis_tuple", lambda np: lambda x: np.sum(x, axis=(1, 2)), (R(10, 11, 7),), [0]),
        ("flipud", lambda np: np.flipud, (R(10, 11),), [0]),
        ("fliplr", lambda np: np.fliplr, (R(10, 11),), [0]),
        ("rot90", lambda np: np.rot90, (R(10, 11),), [0]),
        ("cumsum_axis0", lambda np: lambda x: np.cumsum(x, axis=0), (R(10, 11),), [0]),
        ("cumsum_axis1", lambda np: lambda x: np.cumsum(x, axis=1), (R(10, 11),), [0]),
        ("cumsum_1d", lambda np: np.cumsum, (R(10),), [0]),
        ("cumsum_no_axis", lambda np: np.cumsum, (R(10, 11),), [0]),
        ("python_sum", lambda np: lambda x, y: sum([x, y]), (R(10, 11), R(10, 11)), [0]),
        ("mean", lambda np: np.mean, (R(10, 11),), [0]),
        ("mean_axis0", lambda np: lambda x: np.mean(x, axis=0), (R(10, 11),), [0]),
        ("mean_axis0_keepdims", lambda np: lambda x: np.mean(x, axis=0, keepdims=True),
         (R(10, 11),), [0]),
        ("index_ints", lambda np: lambda x: x[3, 0, 1], (a564,), [0]),
        ("index_slice", lambda np: lambda x: x[::-1, 2:4, :], (a564,), [0]),
        ("index_lists", lambda np: lambda x: x[[0, 1, 2], :, :], (a564,), [0]),
        ("index_mixed", lambda np: lambda x: x[3, 2:, [1, 3]], (a564,), [0]),
        ("vector_slice", lambda np: lambda x: x[2:4], (R(5),), [0]),
        ("index_slice_fanout", lambda np: lambda x: x[::-1, 2:4, :] + x[::-1, 3:5, :],
         (a564,), [0]),
        ("index_multiple_slices", lambda np: lambda x: x[2:6][1:3], (R(7),), [0]),
        ("reshape_method", lambda np: lambda x: x.reshape((20, 6)), (a564,), [0]),
        ("reshape_call", lambda np: lambda x: np.reshape(x, (20, 6)), (a564,), [0]),
        ("reshape_method_nolist", lambda np: lambda x: x.reshape(20, 6), (a564,), [0]),
        ("ravel_method", lambda np: lambda x: x.ravel(), (a564,), [0]),
        ("ravel_call", lambda np: np.ravel, (a564,), [0]),
        ("flatten_method", lambda np: lambda x: x.flatten(), (a564,), [0]),
        ("append_list", lambda np: np.append, ([1., 2., 3.], 4.), [0, 1]),
        ("append_arr", lambda np: np.append, (onp.array([1., 2., 3.]), 4.), [0, 1]),
        ("concatenate_simple", lambda np: lambda x: np.concatenate((a564, x)),
         (R(4, 6, 4),), [0]),
        ("concatenate_axis0", lambda np: lambda x: np.concatenate((a564, x, a564)),
         (R(5, 6, 4),), [0]),
        ("concatenate_axis1", lambda np: lambda x: np.concatenate((a564, x, a564), axis=1),
         (R(5, 6, 4),), [0]),
        ("concatenate_axis1_positional",
         lambda np: lambda x: np.concatenate((a564, x, a564), 1), (R(5, 6, 4),), [0]),
        ("trace_offset_wide", lambda np: lambda x: np.trace(x, offset=4), (R(10, 11),), [0]),
        ("trace_offset_tall", lambda np: lambda x: np.trace(x, offset=-3), (R(11, 10),), [0]),
        ("split", lambda np: lambda x: np.split(x, 2)[0], (R(10),), [0]),
        ("trace_extradims", lambda np: lambda x: np.trace(x, offset=1), (R(5, 6, 4, 3),),
         [0]),
        ("diag", lambda np: np.diag, (R(10, 10),), [0]),
        ("T", lambda np: lambda x: x.T, (R(8, 8),), [0]),
        ("roll", lambda np: lambda x: np.roll(x, 2, axis=1), (R(4, 5),), [0]),
        ("roll_no_axis", lambda np: lambda x: np.roll(x, 2), (R(4, 5),), [0]),
        ("triu", lambda np: lambda x: np.triu(x, k=2), (R(5, 5),), [0]),
        ("tril", lambda np: lambda x: np.tril(x, k=2), (R(5, 5),), [0]),
        ("clip", lambda np: lambda x: np.clip(x, a_min=0.1, a_max=1.1), (R(5, 5),), [0]),
        ("prod_small", lambda np: np.prod, (R(2, 3) ** 2 / 10.0 + 0.1,), [0]),
        ("prod_axis0", lambda np: lambda x: np.prod(x, axis=0), (R(2, 3) ** 2 + 0.1,), [0]),
        ("prod_axis0_keepdims", lambda np: lambda x: np.prod(x, axis=0, keepdims=True),
         (R(2, 3) ** 2 + 0.1,), [0]),
        ("prod_1d", lambda np: np.prod, (R(7) ** 2 + 0.1,), [0]),
        ("array_1d", lambda np: lambda x: np.array([x, x * 1.0, x + 2.5]), (3.0,), [0]),
        ("array_2d", lambda np: lambda x: np.array([[x, x * 1.0, x + 2.5],
                                                    [x ** 2, x, x / 2.0]]), (3.0,), [0]),
        ("array_1d_fanout", lambda np: lambda x: (lambda a: a + a)(
            np.array([x, x * 1.0, x + 2.5])), (3.0,), [0]),
        ("array_from_scalar", lambda np: np.array, (3.0,), [0]),
        ("array_from_arrays", lambda np: lambda x: np.array([x, x]), (a3,), [0]),
        ("array_from_arrays_2", lambda np: lambda x: np.array([[2 * x, x + 1], [x, x]]),
         (a3,), [0]),
        ("len", lambda np: lambda x: x if len(x) == 3 else None, (a3,), [0]),
        ("r_one", lambda np: lambda x: np.r_[x], (a3,), [0]),
        ("r_two", lambda np: lambda x: np.r_[x, x], (a3,), [0]),
        ("r_constant_only", lambda np: lambda x: np.r_[c32], (a3,), [0]),
        ("r_node_and_const", lambda np: lambda x: np.r_[x, c32], (a3,), [0]),
        ("r_mixed", lambda np: lambda x: np.r_[x, c32, x], (a3,), [0]),
        ("r_slicing", lambda np: lambda x: np.r_[x, c10, 1:10], (R(10),), [0]),
        ("c_mixed", lambda np: lambda x: np.c_[x, c32, x], (a3,), [0]),
        ("where", lambda np: lambda x, y: np.where(cond, x, y), (R(4, 5), R(4, 5)), [0]),
        ("squeeze_func", lambda np: np.squeeze, (R(5, 1, 4),), [0]),
        ("squeeze_method", lambda np: lambda x: x.squeeze(), (R(5, 1, 4),), [0]),
        ("repeat", lambda np: lambda x: np.repeat(x, 2, axis=1), (R(5, 3, 4),), [0]),
        ("repeat_axis1_rep1", lambda np: lambda x: np.repeat(x, 1, axis=1), (R(5, 3, 4),),
         [0]),
        ("repeat_axis0", lambda np: lambda x: np.repeat(x, 2, axis=0), (R(5, 3),), [0]),
        ("repeat_1d_axis0", lambda np: lambda x: np.repeat(x, 2, axis=0), (R(5),), [0]),
        ("repeat_axis0_rep1", lambda np: lambda x: np.repeat(x, 1, axis=0), (R(5, 1),), [0]),
        ("expand_dims", lambda np: lambda x: np.expand_dims(x, 2), (R(5, 1, 4),), [0]),
        ("tensordot_axes_positional", lambda np: lambda x: np.tensordot(
            x * np.ones((2, 2)), x * np.ones((2, 2)), 2), (1.0,), [0]),
        ("multi_index", lambda np: lambda x: np.sum(x[[0, 0]]), (R(3),), [0]),
        ("multi_index2", lambda np: lambda x: np.sum(x[[0, 1, 0]]), (R(3),), [0]),
        ("index_dot_slices", lambda np: lambda x: np.dot(x[:2], x[2:]), (R(4),), [0]),
        ("cast_to_int_index", lambda np: lambda w: w[:, :-1][np.int64(w[:, -1])].sum(),
         (onp.concatenate([R(5, 9), onp.array([[0.5], [3.5], [1.5], [4.5], [2.5]])], axis=1),),
         [0]),
        ("concatenate_with_constant", lambda np: lambda w: np.concatenate(
            (w, mask_inds), axis=1), (R(5, 10),), [0]),
        ("diagonal_2d", lambda np: lambda d: np.diagonal(d, axis1=-1, axis2=-2), (R(4, 4),),
         [0]),
        ("diagonal_3d", lambda np: lambda d: np.diagonal(d, axis1=-1, axis2=-2),
         (R(3, 4, 4),), [0]),
        ("nan_to_num", lambda np: lambda x: np.sum(np.sin(np.nan_to_num(x + shifted))),
         (R(4),), [0]),
        ("max_equal_values", lambda np: lambda x: np.max(np.array([x, x])), (1.0,), [0]),
        ("max_equal_values_2d_pos", lambda np: lambda x: np.max(
            np.array([[x, x], [x, 0.5]]), axis=1), (1.0,), [0]),
        ("max_equal_values_2d_neg", lambda np: lambda x: np.max(
            np.array([[x, x], [x, 0.5]]), axis=1), (-1.0,), [0]),
        ("min_3_way_equality_pos", lambda np: lambda x: np.min(np.array(
            [[x, x, x], [x, 0.5, 0.5], [0.5, 0.5, 0.5], [x, x, 0.5]]), axis=0), (1.0,), [0]),
        ("min_3_way_equality_neg", lambda np: lambda x: np.min(np.array(
            [[x, x, x], [x, 0.5, 0.5], [0.5, 0.5, 0.5], [x, x, 0.5]]), axis=0), (-1.0,), [0]),
        ("maximum_equal_values", lambda np: lambda x: np.maximum(x, x), (1.0,), [0]),
    ] + [
        (f"maximum_equal_values_2d_{x}", lambda np: lambda x: np.maximum(
            np.array([x, x, 0.5]), np.array([[x, 0.5, x], [x, x, 0.5]])), (x,), [0])
        for x in (1.0, -1.0, 2.0)
    ] + [
        (f"linspace_{num}_{b}", lambda np, num=num: lambda x, y: np.linspace(x, y, num),
         (1.2, b), [0, 1])
        for num in (0, 1, 5) for b in (3.4, -3.4, 1.2)
    ]


NUMPY_CASES = _numpy_cases()


@pytest.mark.parametrize("make,args,nums", [c[1:] for c in NUMPY_CASES],
                         ids=[c[0] for c in NUMPY_CASES])
def test_numpy_case(make, args, nums):
    _run(make, nums, [[a] for a in args])


@pytest.mark.parametrize("fun", ["var", "std"])
def test_var_std_ddof(fun):
    b, c, d = R(3), R(3, 4), R(1, 3)
    make = lambda np: getattr(np, fun)  # noqa: E731
    _run(make, [0], [[b, c, d]], {"axis": [None], "keepdims": [True, False], "ddof": [0, 1]})
    _run(make, [0], [[c, d]], {"axis": [None, 1], "keepdims": [True, False], "ddof": [2]})


@pytest.mark.xfail(strict=True, raises=AttributeError,
                   reason="make_diagonal is autograd's own addition to its numpy, not NumPy's; "
                          "functrans.autograd.numpy is functrans.numpy (documented)")
def test_make_diagonal():
    check_grads(lambda d: fanp.make_diagonal(d, axis1=-1, axis2=-2))(R(3, 4))


def test_make_diagonal_spelled_with_numpy_functions():
    # what the documentation suggests in its place: d's last axis along a new diagonal
    d = R(3, 4)
    fun = lambda d: d[..., None] * fanp.eye(4)  # noqa: E731
    out = fun(d)
    assert all(onp.allclose(onp.diag(out[i]), d[i]) for i in range(3))
    check_grads(fun)(d)


def test_astype_gradient_keeps_the_input_dtype():
    x = onp.arange(3, dtype="float32")
    g = fa.grad(lambda x: fanp.sum(fanp.sin(x.astype("float64"))))(x)
    assert g.dtype == onp.float32
    onp.testing.assert_allclose(g, onp.cos(onp.arange(3.0)), rtol=1e-6)


# -- test_linalg.py (reverse mode, as autograd checks these) ---------------------------------

def _psd(n):
    m = R(n, n)
    return m @ m.T


def _sym(fun):
    """autograd's check_symmetric_matrix_grads: the function of the symmetrised lower
    triangle, so that every direction of the check stays symmetric."""
    def wrapped(np):
        f = fun(np)

        def g(a, *rest):
            lo = np.tril(a)
            return f((lo + np.swapaxes(lo, -1, -2)) / 2.0, *rest)
        return g
    return wrapped


def _linalg_cases():
    a8 = R(8, 8)
    b_solve = R(8, 7)
    a6 = R(6, 6) + np_eye(6)
    stacked_psd = onp.stack([_psd(5) + 5 * np_eye(5) for _ in range(3)])
    chol_stack = onp.stack([_psd(6) for _ in range(3)])
    eigh_batch = R(2, 3, 6, 6) + 10 * np_eye(6)
    eigh_batch = onp.einsum("...ij,...kj->...ik", eigh_batch, eigh_batch)
    svd = lambda np: lambda x: tuple(np.linalg.svd(x, full_matrices=False))  # noqa: E731
    s_only = lambda np: lambda x: np.linalg.svd(x, full_matrices=False,  # noqa: E731
                                                compute_uv=False)
    b1d, b3, b33 = R(8), R(5, 4), R(5, 4, 6)
    return [
        ("inv", lambda np: np.linalg.inv, (a8 @ a8 + np_eye(8),)),
        ("inv_3d", lambda np: np.linalg.inv, (R(4, 4, 4) + 5 * np_eye(4),)),
        ("inv_4d", lambda np: np.linalg.inv, (R(4, 4, 4, 4) + 5 * np_eye(4),)),
        ("solve_arg1", lambda np: lambda a: np.linalg.solve(a, b_solve),
         (R(8, 8) + 10 * np_eye(8),)),
        ("solve_arg1_1d", lambda np: lambda a: np.linalg.solve(a, b1d),
         (R(8, 8) + 10 * np_eye(8),)),
        ("solve_arg2", lambda np: lambda b: np.linalg.solve(a6, b), (R(6, 5),)),
        # a stack of vectors is b[..., None] in NumPy 2 (NumPy 1 guessed it from the shapes)
        ("solve_arg1_3d", lambda np: lambda a: np.linalg.solve(a, b3[..., None]),
         (R(5, 4, 4) + 5 * np_eye(4),)),
        ("solve_arg1_3d_3d", lambda np: lambda a: np.linalg.solve(a, b33),
         (R(5, 4, 4) + 5 * np_eye(4),)),
        ("det", lambda np: np.linalg.det, (R(6, 6),)),
        ("det_3d", lambda np: np.linalg.det, (R(3, 3, 3),)),
        ("slogdet", lambda np: lambda x: np.linalg.slogdet(x)[1], (a6,)),
        ("slogdet_negated", lambda np: lambda x: np.linalg.slogdet(x)[1], (-a6,)),
        ("slogdet_3d", lambda np: lambda x: np.sum(np.linalg.slogdet(x)[1]), (stacked_psd,)),
        ("vector_2norm", lambda np: np.linalg.norm, (R(6),)),
        ("frobenius_norm", lambda np: np.linalg.norm, (R(6, 5),)),
        ("frobenius_norm_axis", lambda np: lambda x: np.linalg.norm(x, axis=(0, 1)),
         (R(6, 5, 4),)),
    ] + [
        (f"vector_norm_ord{o}", lambda np, o=o: lambda x: np.linalg.norm(x, ord=o), (R(6),))
        for o in (2, 3, 4)
    ] + [
        (f"norm_axis{a}", lambda np, a=a: lambda x: np.linalg.norm(x, axis=a), (R(6, 5, 4),))
        for a in (0, 1, 2)
    ] + [
        ("norm_nuclear", lambda np: lambda x: np.linalg.norm(x, ord="nuc"), (R(6, 5),)),
        ("norm_nuclear_axis", lambda np: lambda x: np.linalg.norm(x, ord="nuc", axis=(0, 1)),
         (R(6, 5, 4),)),
        ("eigh_lower", _sym(lambda np: lambda x: tuple(np.linalg.eigh(x))), (_psd(6),)),
        ("eigh_upper", _sym(lambda np: lambda x: tuple(np.linalg.eigh(x, "U"))), (_psd(6),),
         _EIGH_U_SQUARED),
        ("eigh_lower_batched", _sym(lambda np: lambda x: tuple(np.linalg.eigh(x))),
         (eigh_batch,)),
        ("eigh_upper_batched", _sym(lambda np: lambda x: tuple(np.linalg.eigh(x, "U"))),
         (eigh_batch,), _EIGH_U_SQUARED),
        ("cholesky", _sym(lambda np: np.linalg.cholesky), (_psd(6),)),
        ("cholesky_batched", _sym(lambda np: np.linalg.cholesky), (chol_stack,)),
        ("cholesky_reparameterization", _sym(lambda np: lambda a: np.linalg.norm(
            np.dot(np.linalg.cholesky(a), onp.random.RandomState(0).randn(a.shape[0])))),
         (_psd(6),)),
        ("svd_wide_2d", svd, (R(3, 5),)),
        ("svd_wide_3d", svd, (R(4, 3, 5),)),
        ("svd_square_2d", svd, (R(4, 4),)),
        ("svd_square_3d", svd, (R(3, 4, 4),)),
        ("svd_tall_2d", svd, (R(5, 3),)),
        ("svd_tall_3d", svd, (R(4, 5, 3),)),
        ("svd_only_s_2d", s_only, (R(5, 3),)),
        ("svd_only_s_3d", s_only, (R(4, 5, 3),)),
    ]


# eigh(x, "U"): an eigenvector's sign is arbitrary, and ours may differ from NumPy's for the
# upper triangle (ours decomposes the symmetric matrix it reads): compared through v ** 2
_EIGH_U_SQUARED = _sym(lambda np: lambda x: (lambda w, v: (w, v ** 2))(*np.linalg.eigh(x, "U")))


def np_eye(n):
    return onp.eye(n)


LINALG_CASES = _linalg_cases()


@pytest.mark.parametrize("case", LINALG_CASES, ids=[c[0] for c in LINALG_CASES])
def test_linalg_case(case):
    make, args = case[1:3]
    _run(make, [0], [[a] for a in args], modes=("rev",), tol=1e-8,
         compare=case[3] if len(case) > 3 else True)


# -- test_scipy.py (reverse mode unless autograd's case says otherwise) ----------------------

def _sp(np):
    """The scipy namespace beside ``np``: functrans.autograd.scipy or autograd.scipy."""
    if np is fanp:
        return fa.scipy
    for m in ("stats", "special", "signal", "linalg", "integrate"):
        importlib.import_module(f"autograd.scipy.{m}")
    return importlib.import_module("autograd.scipy")


def _symmetrized(fun, argnum):
    def sym_fun(*args, **kwargs):
        args = list(args)
        a = args[argnum]
        args[argnum] = 0.5 * (a + a.swapaxes(-1, -2)) if a.ndim > 1 else a
        return fun(*args, **kwargs)
    return sym_fun


def _pos(*shape):
    return R(*shape) ** 2 + 1.1


def _scipy_cases():
    st = lambda dist, f: lambda np: getattr(getattr(_sp(np).stats, dist), f)  # noqa: E731
    sp = lambda f: lambda np: getattr(_sp(np).special, f)  # noqa: E731
    psd = lambda m: m.T @ m + onp.eye(m.shape[0])  # noqa: E731
    alpha = _R.rand(4) ** 2 + 1.2
    xd = _R.dirichlet(alpha)
    cases = [
        ("chi2_pdf", st("chi2", "pdf"), [0], [[_pos(4)], [1, 2, 3]], {}),
        ("chi2_cdf", st("chi2", "cdf"), [0], [[_pos(4)], [1, 2, 3]], {}),
        ("chi2_logpdf", st("chi2", "logpdf"), [0], [[_pos(4)], [1, 2, 3]], {}),
        ("beta_cdf", st("beta", "cdf"), [0], [[U(0, 1, 4)], [_pos(4)], [_pos(4)]], {}),
        ("beta_pdf", st("beta", "pdf"), [0, 1, 2], [[U(0, 1, 4)], [_pos(4)], [_pos(4)]], {}),
        ("beta_logpdf", st("beta", "logpdf"), [0, 1, 2],
         [[U(0, 1, 4)], [_pos(4)], [_pos(4)]], {}),
        ("gamma_cdf", st("gamma", "cdf"), [0], [[_pos(4)], [_pos(4)]], {}),
        ("gamma_pdf", st("gamma", "pdf"), [0, 1], [[_pos(4)], [_pos(4)]], {}),
        ("gamma_logpdf", st("gamma", "logpdf"), [0, 1], [[_pos(4)], [_pos(4)]], {}),
    ] + [
        (f"norm_{f}", st("norm", f), [0, 1, 2], [[R(4)], [R(4)], [_pos(4)]], {})
        for f in ("pdf", "cdf", "sf", "logpdf", "logcdf", "logsf")
    ] + [
        (f"norm_{f}", st("norm", f), [0, 1, 2], [[U(0.05, 0.95, 4)], [R(4)], [_pos(4)]], {})
        for f in ("ppf", "isf")
    ] + [
        (f"norm_{f}_broadcast", st("norm", f), [0, 1, 2],
         [[R(4, 3)], [R(1, 3)], [_pos(4, 1)]], {})
        for f in ("pdf", "cdf", "sf", "logpdf", "logcdf", "logsf")
    ] + [
        (f"norm_{f}_broadcast", st("norm", f), [0, 1, 2],
         [[U(0.05, 0.95, 4, 3)], [R(1, 3)], [_pos(4, 1)]], {})
        for f in ("ppf", "isf")
    ] + [
        (f"poisson_{f}", st("poisson", f), [1], [[onp.round(R(4) ** 2)], [_pos(4)]], {})
        for f in ("cdf", "logpmf", "pmf")
    ] + [
        (f"poisson_{f}_broadcast", st("poisson", f), [1],
         [[onp.round(R(4, 3) ** 2)], [_pos(4, 1)]], {})
        for f in ("cdf", "logpmf", "pmf")
    ] + [
        (f"t_{f}", st("t", f), nums, [[R(4)], [R(4) ** 2 + 2.1], [R(4)], [R(4) ** 2 + 2.1]], {})
        for f, nums in (("pdf", [0, 1, 2, 3]), ("cdf", [0, 2]), ("logpdf", [0, 1, 2, 3]),
                        ("logcdf", [0, 2]))
    ] + [
        (f"t_{f}_broadcast", st("t", f), nums,
         [[R(4, 3)], [R(1, 3) ** 2 + 2.1], [R(4, 3)], [R(4, 1) ** 2 + 2.1]], {})
        for f, nums in (("pdf", [0, 1, 2, 3]), ("cdf", [0, 2]), ("logpdf", [0, 1, 2, 3]),
                        ("logcdf", [0, 2]))
    ] + [
        ("mvn_pdf", lambda np: _symmetrized(_sp(np).stats.multivariate_normal.pdf, 2),
         [0, 1, 2], [[R(4)], [R(4)], [psd(R(4, 4))]], {"allow_singular": [False]}),
        ("mvn_logpdf", lambda np: _symmetrized(_sp(np).stats.multivariate_normal.logpdf, 2),
         [0, 1, 2], [[R(4)], [R(4)], [psd(R(4, 4))]], {"allow_singular": [False]}),
        ("mvn_entropy", lambda np: _symmetrized(_sp(np).stats.multivariate_normal.entropy, 1),
         [0, 1], [[10 * R(4)], [psd(R(4, 4))]], {}),
        ("mvn_pdf_broadcast", lambda np: _symmetrized(_sp(np).stats.multivariate_normal.pdf, 2),
         [0, 1, 2], [[R(5, 4)], [R(4)], [psd(R(4, 4))]], {}),
        ("mvn_logpdf_broadcast",
         lambda np: _symmetrized(_sp(np).stats.multivariate_normal.logpdf, 2),
         [0, 1, 2], [[R(5, 4)], [R(4)], [psd(R(4, 4))]], {}),
        ("dirichlet_pdf_x", lambda np: lambda x, a: _sp(np).stats.dirichlet.pdf(x / sum(x), a),
         [0], [[xd], [alpha]], {}),
        ("dirichlet_pdf_alpha", st("dirichlet", "pdf"), [1], [[xd], [alpha]], {}),
        ("dirichlet_logpdf_x",
         lambda np: lambda x, a: _sp(np).stats.dirichlet.logpdf(x / sum(x), a),
         [0], [[xd], [alpha]], {}),
        ("dirichlet_logpdf_alpha", st("dirichlet", "logpdf"), [1], [[xd], [alpha]], {}),
        ("beta", sp("beta"), [0, 1], [[_pos(4)], [_pos(4)]], {}),
        ("betainc", sp("betainc"), [2], [[_pos(4)], [_pos(4)], [U(0, 1, 4)]], {}),
        ("betaln", sp("betaln"), [0, 1], [[_pos(4)], [_pos(4)]], {}),
        ("gammainc", sp("gammainc"), [1], [[1], [R(4) ** 2 + 1.3]], {}),
        ("gammaincc", sp("gammaincc"), [1], [[1], [R(4) ** 2 + 1.3]], {}),
        ("polygamma", sp("polygamma"), [1], [[0], [R(4) ** 2 + 1.3]], {}),
        ("jn", sp("jn"), [1], [[2], [R(4) ** 2 + 1.3]], {}),
        ("yn", sp("yn"), [1], [[2], [R(4) ** 2 + 1.3]], {}),
        ("multigammaln", sp("multigammaln"), [0], [[U(4, 5), U(4, 5, 2, 3)], [1, 2, 3]], {}),
    ]
    return [c + ({"modes": ("rev",)},) for c in cases] + [
        ("logsumexp1", sp("logsumexp"), [0], [[onp.array([1.1]), R(4), R(3, 4)]],
         {"axis": [None, 0], "keepdims": [True, False]}, {}),
        ("logsumexp2", sp("logsumexp"), [0], [[R(3, 4), R(4, 5, 6), R(1, 5)]],
         {"axis": [None, 0, 1], "keepdims": [True, False]}, {}),
        ("logsumexp3", sp("logsumexp"), [0], [[R(4)]],
         {"b": [onp.exp(R(4))], "axis": [None, 0], "keepdims": [True, False]}, {}),
        ("logsumexp4", sp("logsumexp"), [0], [[R(3, 4)]],
         {"b": [onp.exp(R(3, 4))], "axis": [None, 0, 1], "keepdims": [True, False]}, {}),
        ("logsumexp5", sp("logsumexp"), [0], [[R(2, 3, 4)]],
         {"b": [onp.exp(R(2, 3, 4))], "axis": [None, 0, 1], "keepdims": [True, False]}, {}),
        ("logsumexp6", lambda np: lambda a: _sp(np).special.logsumexp(a, axis=1, keepdims=True),
         [0], [[R(1, 5)]], {}, {}),
        ("sqrtm_symmetric_psd", lambda np: _symmetrized(_sp(np).linalg.sqrtm, 0), [0],
         [[_psd(3) + onp.eye(3)]], {}, {}),
        ("solve_sylvester", lambda np: _sp(np).linalg.solve_sylvester, [0, 1, 2],
         [[R(3, 3)], [R(3, 3)], [R(3, 3)]], {}, {}),
    ]


@pytest.mark.xfail(strict=True, raises=ValueError,
                   reason="sqrtm of a real matrix with a negative eigenvalue: its root is "
                          "complex, and a real input cannot give a complex result here "
                          "(documented; pass a complex matrix)")
def test_sqrtm_of_a_symmetric_matrix_with_negative_eigenvalues():
    a = onp.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.5], [0.0, 0.5, -1.0]])
    check_grads(_symmetrized(fa.scipy.linalg.sqrtm, 0), modes=["fwd", "rev"])(a)


@pytest.mark.parametrize("name", ["iv", "ive"])
def test_modified_bessel_of_real_order(name):  # (an xfail until session 22 added them)
    check_grads(lambda x: getattr(fa.scipy.special, name)(2.5, x), modes=["rev"])(
        R(4) ** 2 + 1.3)


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_error_function_of_complex_input(name):  # (an xfail until session 22)
    check_grads(getattr(fa.scipy.special, name), modes=["rev"])(0.3 + 0.2j)


def test_functions_added_for_autograds_suite_match_scipy():
    import scipy.special as ss
    import scipy.stats as sst
    y = onp.array([1e-300, 1e-10, 0.05, 0.7, 1.0, 1.5, 1.95, 2.0, -0.1, 2.1])
    onp.testing.assert_allclose(fa.scipy.special.erfcinv(y), ss.erfcinv(y), rtol=1e-13)
    x = onp.array([0.5, 1.3, 4.0, -2.0])
    onp.testing.assert_allclose(fa.scipy.special.jn(3, x), ss.jn(3, x), rtol=1e-12)
    t = onp.array([-30.0, -1.0, 0.3, 5.0])
    for f in ("logcdf", "logsf"):
        onp.testing.assert_allclose(getattr(fa.scipy.stats.t, f)(t, 3.5, 0.2, 1.5),
                                    getattr(sst.t, f)(t, 3.5, 0.2, 1.5), rtol=1e-10)
    m = R(4, 4)
    cov, mu = m @ m.T + onp.eye(4), R(4)
    mvn = fa.scipy.stats.multivariate_normal
    for args in ((mu, cov), (None, cov), (mu, onp.full(4, 2.0)), (0.0, 2.0), ()):
        onp.testing.assert_allclose(mvn.entropy(*args),
                                    sst.multivariate_normal.entropy(*args), rtol=1e-12)
    # d entropy / d cov = inv(cov) / 2 (symmetric), and no dependence on the mean
    onp.testing.assert_allclose(fa.grad(lambda c: mvn.entropy(mu, c))(cov),
                                0.5 * onp.linalg.inv(cov), rtol=1e-10)
    onp.testing.assert_array_equal(fa.grad(lambda m: mvn.entropy(m, cov))(mu), 0.0)


UNARY_SPECIAL = [("psi", (0.3, 2.0), False), ("digamma", (0.3, 2.0), False),
                 ("gamma", (0.3, 2.0), False), ("gammaln", (0.3, 2.0), False),
                 ("gammasgn", (0.3, 2.0), False), ("rgamma", (0.3, 2.0), False),
                 ("j0", (0.2, 20.0), False), ("j1", (0.2, 20.0), False),
                 ("y0", (0.2, 20.0), False), ("y1", (0.2, 20.0), False),
                 ("i0", (0.2, 20.0), False), ("i1", (0.2, 20.0), False),
                 ("erf", (-3.0, 3.0), False), ("erfc", (-3.0, 3.0), False),
                 ("erfinv", (-0.95, 0.95), False), ("erfcinv", (0.05, 1.95), False),
                 ("logit", (0.1, 0.9), False), ("expit", (-4.05, 4.95), False)]

SCIPY_CASES = _scipy_cases()


@pytest.mark.parametrize("case", SCIPY_CASES, ids=[c[0] for c in SCIPY_CASES])
def test_scipy_case(case):
    _, make, nums, arg_lists, kws, opts = case
    _run(make, nums, arg_lists, kws, tol=1e-8, **opts)


@pytest.mark.parametrize("name,lims,cplx", UNARY_SPECIAL, ids=[u[0] for u in UNARY_SPECIAL])
def test_special_unary(name, lims, cplx):
    lo, hi = lims
    make = lambda np: getattr(_sp(np).special, name)  # noqa: E731
    _run(make, [0], [[U(lo, hi), U(lo, hi, 2), U(lo, hi, 3, 2), U(lo, hi, 1, 2)]],
         modes=("rev",), tol=1e-8)
    if cplx:
        _run(make, [0], [[U(lo, hi) + 0.1j * U(lo, hi), U(lo, hi, 3, 2) + 0.1j * _R.rand(3, 2)]],
             modes=("rev",), tol=1e-8)


def test_logsumexp_gradient_of_gradient():
    f = lambda a: fa.scipy.special.logsumexp(a, axis=1, keepdims=True)  # noqa: E731
    check_grads(lambda a: fa.grad(f)(a), modes=["fwd", "rev"])(R(1, 5))


@pytest.mark.parametrize("mode", ["full", "valid", "same"])
def test_convolve(mode):
    conv = lambda np: lambda a, b: _sp(np).signal.convolve(a, b, mode=mode)  # noqa: E731
    _run(conv, [0, 1], [[R(4), R(5), R(6)], [R(2), R(3), R(4)]], modes=("rev",), tol=1e-8)
    _run(conv, [0, 1], [[R(4, 3), R(5, 4), R(6, 7)], [R(2, 2), R(3, 2), R(4, 2), R(4, 1)]],
         modes=("rev",), tol=1e-8)


# -- test_fft.py (reverse mode, as autograd checks these) -------------------------------------

def _hermitian(name, mat):
    """An inverse real transform's input, made Hermitian by the forward transform."""
    return getattr(onp.fft, name[1:])(mat) if name.startswith("ir") else mat


def _fft_cases():
    F = lambda name, **kw: lambda np: lambda x: getattr(np.fft, name)(x, **kw)  # noqa: E731
    cases = [
        ("fft", F("fft"), R(5, 5)), ("fft_ortho", F("fft", norm="ortho"), R(5, 5)),
        ("fft_axis", F("fft", axis=0), R(5, 5)), ("ifft", F("ifft"), R(5, 5)),
        ("fft2", F("fft2"), R(5, 5) / 10), ("ifft2", F("ifft2"), R(5, 5)),
        ("fftn", F("fftn"), R(5, 5) / 10), ("ifftn", F("ifftn"), R(5, 5)),
        ("rfft", F("rfft"), R(4, 4) / 10), ("rfft_ortho", F("rfft", norm="ortho"), R(4, 4) / 10),
        ("rfft_axes", F("rfft", axis=0), R(4, 4) / 10),
        ("irfft", F("irfft"), onp.fft.rfft(R(4, 4) / 10)),
        ("irfft_ortho", F("irfft", norm="ortho"), onp.fft.rfft(R(4, 4) / 10)),
        ("rfft2", F("rfft2"), R(4, 4) / 10), ("irfft2", F("irfft2"), onp.fft.rfft2(R(4, 4) / 10)),
        ("rfftn", F("rfftn"), R(4, 4, 4) / 10),
        ("rfftn_subset", lambda np: lambda x: np.fft.rfftn(x)[(0, 1, 0), (3, 3, 2)],
         R(4, 4, 4) / 10),
        ("rfftn_axes", F("rfftn", axes=(0, 2)), R(4, 4, 4) / 10),
        ("irfftn", F("irfftn"), onp.fft.rfftn(R(4, 4, 4) / 10)),
        ("irfftn_subset", lambda np: lambda x: np.fft.irfftn(x)[(0, 1, 0), (3, 3, 2)],
         onp.fft.rfftn(R(4, 4, 4) / 10)),
        ("fftshift", F("fftshift"), R(5, 5) / 10), ("fftshift_even", F("fftshift"), R(4, 4) / 10),
        ("fftshift_axes", F("fftshift", axes=1), R(5, 5) / 10),
        ("ifftshift", F("ifftshift"), R(5, 5)), ("ifftshift_even", F("ifftshift"), R(4, 4)),
        ("ifftshift_axes", F("ifftshift", axes=1), R(5, 5)),
    ]
    for name, d in (("fft", 5), ("ifft", 5), ("rfft", 4), ("irfft", 4)):
        for n in (-2, 2):
            cases.append((f"{name}_n{n:+d}", lambda np, name=name, d=d, n=n: lambda x: getattr(
                np.fft, name)(x, d + n), _hermitian(name, R(d, d))))
    for name, d in (("fft2", 5), ("ifft2", 5), ("fftn", 5), ("ifftn", 5), ("rfft2", 4),
                    ("irfft2", 4), ("rfftn", 4), ("irfftn", 4)):
        cases.append((f"{name}_s", lambda np, name=name, d=d: lambda x: getattr(np.fft, name)(
            x, s=[d + 2, d - 2], axes=[0, 2]), _hermitian(name, R(d, d, d) / 10)))
    return cases


FFT_CASES = _fft_cases()


def test_rfftn_with_an_odd_last_axis_is_differentiated():
    # autograd raises NotImplementedError for this one; ours is checked numerically
    x = R(5, 5, 5) / 10
    check_grads(fanp.fft.rfftn, modes=["rev"])(x)
    agnp = _ag_np(required=True)
    import autograd
    with pytest.raises(NotImplementedError):
        autograd.grad(lambda x: agnp.sum(agnp.real(agnp.fft.rfftn(x))))(x)


def test_a_tuple_inside_an_index_is_a_sequence_of_integers():
    # NumPy's x[(0, 1, 0), (3, 3, 2)] is x[[0, 1, 0], [3, 3, 2]]: it raised IndexError on
    # tracers
    x = R(4, 4, 3)
    for key in [((0, 1, 0), (3, 3, 2)), ((0, 1), slice(None), (2, 0)), (1, (0, 2))]:
        onp.testing.assert_array_equal(fanp.asarray(x)[key], x[key])
        g = fa.grad(lambda x: fanp.sum(x[key] ** 2))(x)
        expected = onp.zeros_like(x)
        onp.add.at(expected, key, 2 * x[key])
        onp.testing.assert_allclose(g, expected, rtol=1e-12)


@pytest.mark.parametrize("make,x", [c[1:] for c in FFT_CASES], ids=[c[0] for c in FFT_CASES])
def test_fft_case(make, x):
    _run(make, [0], [[x]], modes=("rev",), tol=1e-9)


# -- test_scalar_ops.py: a function of a scalar and its derivative, each checked --------------

SCALAR_OPS = [  # (id, np -> fun, points)
    ("abs", lambda np: lambda x: 3.0 * np.abs(x), (1.1, -1.1)),
    ("sin", lambda np: lambda x: 3.0 * np.sin(x), (0.7,)),
    ("sign", lambda np: lambda x: 3.0 * np.sign(x), (1.1, -1.1)),
    ("exp", lambda np: lambda x: 3.0 * np.exp(x), (0.7,)),
    ("log", lambda np: lambda x: 3.0 * np.log(x), (0.7,)),
    ("log2", lambda np: lambda x: 3.0 * np.log2(x), (0.7,)),
    ("log10", lambda np: lambda x: 3.0 * np.log10(x), (0.7,)),
    ("log1p", lambda np: lambda x: 3.0 * np.log1p(x), (0.7,)),
    ("expm1", lambda np: lambda x: 3.0 * np.expm1(x), (0.7,)),
    ("neg", lambda np: lambda x: 3.0 * -x, (0.7,)),
    ("cos", lambda np: lambda x: 3.0 * np.cos(x), (0.7,)),
    ("tan", lambda np: lambda x: 3.0 * np.tan(x), (0.7,)),
    ("cosh", lambda np: lambda x: 3.0 * np.cosh(x), (0.7,)),
    ("sinh", lambda np: lambda x: 3.0 * np.sinh(x), (0.7,)),
    ("tanh", lambda np: lambda x: 3.0 * np.tanh(x), (0.7,)),
    ("arccos", lambda np: lambda x: 3.0 * np.arccos(x), (0.1,)),
    ("arcsin", lambda np: lambda x: 3.0 * np.arcsin(x), (0.1,)),
    ("arctan", lambda np: lambda x: 3.0 * np.arctan(x), (0.2,)),
    ("arccosh", lambda np: lambda x: 3.0 * np.arccosh(x), (1.7,)),
    ("arcsinh", lambda np: lambda x: 3.0 * np.arcsinh(x), (0.2,)),
    ("arctanh", lambda np: lambda x: 3.0 * np.arctanh(x), (0.2,)),
    ("sqrt", lambda np: lambda x: 3.0 * np.sqrt(x), (10.0,)),
    ("power_base", lambda np: lambda x: np.power(x, 2.5), (1.7,)),
    ("power_exponent", lambda np: lambda y: 3.0 * np.power(1.7, y), (2.2,)),
    ("power_exponent_zero_base", lambda np: lambda y: np.power(0.0, y), (3.0,)),
    ("mod_first", lambda np: lambda x: np.mod(x, 2.0), (2.3, -2.3)),
    ("mod_second", lambda np: lambda y: np.mod(2.3, y), (1.1, -1.1)),
    ("divide_first", lambda np: lambda x: np.divide(x, 2.0), (1.7,)),
    ("divide_second", lambda np: lambda y: np.divide(2.0, y), (1.7,)),
    ("multiply_first", lambda np: lambda x: np.multiply(x, 2.0), (1.7,)),
    ("multiply_second", lambda np: lambda y: np.multiply(2.0, y), (1.7,)),
    ("true_divide", lambda np: lambda x: np.true_divide(x, 2.0), (1.7,)),
    ("reciprocal", lambda np: np.reciprocal, (1.7,)),
    ("negative", lambda np: np.negative, (1.7,)),
    ("rad2deg", lambda np: lambda x: np.rad2deg(x) / 50.0, (1.7,)),
    ("deg2rad", lambda np: np.deg2rad, (1.7,)),
    ("radians", lambda np: np.radians, (1.7,)),
    ("degrees", lambda np: lambda x: np.degrees(x) / 50.0, (1.7,)),
    ("sinc", lambda np: lambda x: 3.0 * np.sinc(x), (1.7, 7.3)),
    ("exp2", lambda np: lambda x: 3.0 * np.exp2(x), (0.7,)),
    ("power_base_random_exponent", lambda np: lambda x: np.power(x, 2.3), (1.4,)),
    ("power_exponent_small_base", lambda np: lambda y: np.power(0.8, y), (0.3,)),
    ("mod_both", lambda np: lambda x: np.mod(x, 0.37) + np.mod(0.81, x), (0.55,)),
]


def test_abs_at_zero_and_power_zero_exponent_at_zero():
    # abs at its kink: the derivative 0 (the central difference's); x ** 0 at 0: 0, and so
    # its second derivative (autograd's issue 116: 0 * inf must not give nan)
    check_grads(lambda x: 3.0 * fanp.abs(x), order=1)(0.0)
    assert float(fa.grad(lambda x: 3.0 * fanp.abs(x))(0.0)) == 0.0
    f = lambda x: fanp.power(x, 0.0)  # noqa: E731
    assert float(fa.grad(f)(0.0)) == 0.0 and float(fa.grad(fa.grad(f))(0.0)) == 0.0
    assert float(fa.deriv(f)(0.0)) == 0.0


@pytest.mark.parametrize("make,points", [c[1:] for c in SCALAR_OPS],
                         ids=[c[0] for c in SCALAR_OPS])
def test_scalar_op(make, points):
    deriv = lambda np: fa.grad(make(np)) if np is fanp else importlib.import_module(  # noqa
        "autograd").grad(make(np))
    for x in points:
        _run(make, [0], [[x]])
        _run(deriv, [0], [[x]], compare=False)
        compare_with_autograd(deriv, [x], [0])


# -- test_core.py: Python floats through make_vjp, both arguments ----------------------------

CORE_BINARY = [("add", op.add), ("sub", op.sub), ("div", op.truediv), ("mul", op.mul),
               ("pow", op.pow), ("mod", op.mod)]
CORE_COMPARE = [("eq", op.eq), ("ne", op.ne), ("le", op.le), ("ge", op.ge), ("lt", op.lt),
                ("gt", op.gt)]


def _vjp_grad(fun, argnum):
    def g(*args):
        vjp, _ = fa.make_vjp(fun, argnum)(*args)
        return vjp(1.0)
    return g


@pytest.mark.parametrize("fun", [c[1] for c in CORE_BINARY], ids=[c[0] for c in CORE_BINARY])
def test_core_binary_on_python_floats(fun):
    x, y, eps = 0.7, 1.8, 1e-6
    gx, gy = _vjp_grad(fun, 0)(x, y), _vjp_grad(fun, 1)(x, y)
    onp.testing.assert_allclose(gx, (fun(x + eps, y) - fun(x - eps, y)) / (2 * eps), rtol=1e-6)
    onp.testing.assert_allclose(gy, (fun(x, y + eps) - fun(x, y - eps)) / (2 * eps), rtol=1e-6)


@pytest.mark.parametrize("fun", [c[1] for c in CORE_COMPARE], ids=[c[0] for c in CORE_COMPARE])
def test_core_comparison_has_no_derivative(fun):
    # autograd: a zero gradient (with a warning that the output does not depend on the input)
    for argnum in (0, 1):
        out = fa.grad(lambda x, y: fun(x, y) * 1.0, argnum)(0.7, 1.8)
        assert float(out) == 0.0


# -- test_dict.py, test_list.py, test_tuple.py: containers as arguments ------------------------

def _containers():
    a, b, c = R(5, 6), R(4, 3), R(2, 4)
    return [("dict", {"item_1": a, "item_2": b, "item_X": c}, ("item_1", "item_2", "item_X")),
            ("list", [a, b, c], (0, 1, 2)), ("tuple", (a, b, c), (0, 1, 2))]


CONTAINERS = _containers()


@pytest.mark.parametrize("box,keys", [c[1:] for c in CONTAINERS], ids=[c[0] for c in CONTAINERS])
def test_container_getter(box, keys):
    k1, k2, kx = keys
    g = fa.grad(lambda d: fanp.sum(d[k1]) + fanp.sum(d[k2]) + fanp.sum(d[k2]))(box)
    assert type(g) is type(box)
    onp.testing.assert_array_equal(g[k1], onp.ones_like(box[k1]))
    onp.testing.assert_array_equal(g[k2], 2 * onp.ones_like(box[k2]))
    onp.testing.assert_array_equal(g[kx], onp.zeros_like(box[kx]))


@pytest.mark.parametrize("box,keys", [c[1:] for c in CONTAINERS], ids=[c[0] for c in CONTAINERS])
def test_container_gradients_and_their_gradients(box, keys):
    k1, k2, _ = keys

    def fun(d):
        return fanp.sum(fanp.sin(d[k1])) + fanp.sum(fanp.cos(d[k2]))

    def d_fun(d):
        g = fa.grad(fun)(d)
        return fanp.sum(g[k1]) + fanp.sum(fanp.sin(g[k1])) + fanp.sum(fanp.sin(g[k2]))
    check_grads(fun)(box)
    check_grads(d_fun)(box)
    check_grads(fun, box)  # the older form (test_list.py's)
    check_grads(d_fun, box)


def test_dict_iteration_items_values_keys():
    box = CONTAINERS[0][1]

    def iterated(d):
        a = b = 0.0
        for i, k in enumerate(sorted(d)):
            a = a + fanp.sum(fanp.sin(d[k])) * (i + 1.0)
            b = b + fanp.sum(fanp.cos(d[k]))
        return a + b

    def viewed(d):
        a = b = 0.0
        for i, (k, v) in enumerate(sorted(d.items(), key=op.itemgetter(0))):
            a = a + fanp.sum(fanp.sin(v)) * (i + 1.0)
            b = b + fanp.sum(fanp.cos(v))
        for v in d.values():
            a = a + fanp.sum(fanp.sin(v))
        for k in sorted(d.keys()):
            a = a + fanp.sum(fanp.cos(d[k]))
        return a + b
    for fun in (iterated, viewed):
        check_grads(fun)(box)
        check_grads(lambda d: fanp.sum(fanp.sin(fa.grad(fun)(d)["item_2"])))(box)


@pytest.mark.parametrize("d", [{"item_1": 3.0}, {"item_2": 4.0}, {}])
def test_dict_get(d):
    check_grads(lambda d, x: d.get("item_1", x) ** 2, argnum=(0, 1))(d, 2.0)


def test_dict_tuple_list_constructors_and_isinstance():
    check_grads(lambda x: fa.dict([("a", x)], b=x), modes=["rev"])(1.0)
    check_grads(lambda x: fa.dict({"a": x}), modes=["rev"])(1.0)
    assert fa.dict() == {} and fa.dict(()) == {} and fa.dict({}) == {}

    def fun(x):
        assert fa.isinstance(x, dict) and fa.isinstance(x, fa.dict)
        return x["x"]
    assert float(fa.grad(fun)({"x": 1.0})["x"]) == 1.0

    def fun_t(x):
        assert fa.isinstance(x, tuple) and fa.isinstance(x, fa.tuple)
        return x[0]
    g = fa.grad(fun_t)((1.0, 2.0, 3.0))
    assert isinstance(g, tuple) and [float(v) for v in g] == [1.0, 0.0, 0.0]


def test_tuple_nested_higher_order():
    def outer(x):
        inner = lambda y: y[0] * y[1]  # noqa: E731
        return fanp.sum(fanp.sin(fanp.array(fa.grad(inner)(fa.tuple((x, x))))))
    check_grads(outer)(5.0)
    check_grads(fa.grad(outer))(10.0)
    check_grads(fa.grad(fa.grad(outer)))(10.0)


# -- test_wrappers.py: the differential operators ---------------------------------------------

def test_value_and_grad_return_both():
    fun = lambda x: 3.0 * x ** 3.2  # noqa: E731
    f, d = fa.value_and_grad(fun)(1.7)
    assert f == fun(1.7) and d == fa.grad(fun)(1.7)
    fun2 = lambda x: fanp.sum(fanp.sin(x) ** 2)  # noqa: E731
    x = R(5)
    v, g = fa.value_and_grad(fun2)(x)
    onp.testing.assert_allclose(v, fun2(x), rtol=1e-14)
    onp.testing.assert_allclose(g, fa.grad(fun2)(x), rtol=1e-14)


def test_hessian_of_a_quadratic():
    h = R(5, 5)
    onp.testing.assert_allclose(fa.hessian(lambda x: fanp.dot(fanp.dot(x, h), x))(R(5)),
                                h + h.T, rtol=1e-12)


def _nd(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def test_elementwise_grad_one_and_several_arguments():
    f = lambda a: a + fanp.sin(a) + fanp.cosh(a)  # noqa: E731
    a = R(10)
    onp.testing.assert_allclose(fa.elementwise_grad(f)(a), [_nd(f, x) for x in a], rtol=1e-6)
    f2 = lambda a, b: a + fanp.sin(a) + fanp.cosh(b)  # noqa: E731
    b = R(10)
    onp.testing.assert_allclose(fa.elementwise_grad(f2, argnum=1)(0.9, b),
                                [_nd(lambda y: f2(0.9, y), y) for y in b], rtol=1e-6)


@pytest.mark.parametrize("shape", [(5,), (5, 4), (5, 4, 3)])
def test_hessian_vector_product(shape):
    fun = lambda a: fanp.sum(fanp.sin(a))  # noqa: E731
    a, v = R(*shape), R(*shape)
    h = fa.hessian(fun)(a)
    onp.testing.assert_allclose(fa.hessian_vector_product(fun)(a, v),
                                onp.tensordot(h, v, axes=v.ndim), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape,vshape", [((5,), (5,)), ((5, 4), (5, 4)), ((5, 4, 3), (5, 4))])
def test_vector_jacobian_product(shape, vshape):
    fun = lambda a: fanp.roll(fanp.sin(a), 1)  # noqa: E731
    a, v = R(*shape), R(*vshape)
    j = fa.jacobian(fun)(a)
    onp.testing.assert_allclose(fa.vector_jacobian_product(fun)(a, v),
                                onp.tensordot(v, j, axes=v.ndim), rtol=1e-12, atol=1e-14)


def test_grad_of_a_partial_and_gradient_dtypes():
    import functools
    fa.grad(functools.partial(lambda x, y: x, y=1))
    f = lambda x: fanp.sum(x ** 2)  # noqa: E731
    for dt in (onp.float32, onp.float16):
        assert fa.grad(f)(R(10, 10).astype(dt)).dtype.type is dt


def test_checkpoint_correctness():
    bar = lambda x, y: 2 * x + y + 5  # noqa: E731
    cbar = fa.checkpoint(bar)
    foo = lambda x: bar(x, x / 3.0) + bar(x, x ** 2)  # noqa: E731
    foo2 = lambda x: cbar(x, x / 3.0) + cbar(x, x ** 2)  # noqa: E731
    assert onp.allclose(foo(3.0), foo2(3.0)) and onp.allclose(fa.grad(foo)(3.0),
                                                              fa.grad(foo2)(3.0))
    baz = lambda *args: sum(args)  # noqa: E731
    cbaz = fa.checkpoint(baz)
    assert onp.allclose(fa.grad(lambda x: baz(x, x / 3.0))(3.0),
                        fa.grad(lambda x: cbaz(x, x / 3.0))(3.0))


def test_multigrad_dict_against_finite_differences():
    def fun(a, b, c, d, e, f=1.1, g=9.0):
        return a + fanp.sin(b) + fanp.cosh(c) + fanp.cos(d) + fanp.tan(e) + f + g
    args = dict(a=0.5, b=-0.3, c=0.2, d=-1.1, e=0.7)
    g = fa.multigrad_dict(fun)(f=0.6, g=-0.1, **args)
    for k, v in args.items():
        num = _nd(lambda t: fun(**{**args, k: t}, f=0.6, g=-0.1), v)
        onp.testing.assert_allclose(g[k], num, rtol=1e-6)


# -- test_binary_ops.py: every pair of shapes, the function and its two gradients -------------

def _pairs():
    vals = [2.0, R(6), R(7, 6), R(1, 6)]
    return list(itertools.product(vals, vals))


BINARY_OPS = [  # (id, op, transform of the first argument, of the second)
    ("mul", op.mul, None, None), ("add", op.add, None, None), ("sub", op.sub, None, None),
    ("div", op.truediv, lambda x: onp.sqrt(x ** 2 + 0.5), lambda y: onp.sqrt(y ** 2 + 0.5)),
    ("pow", op.pow, lambda x: onp.abs(x) + 1.1, onp.round),
]


@pytest.mark.parametrize("fun,ta,tb", [c[1:] for c in BINARY_OPS], ids=[c[0] for c in BINARY_OPS])
def test_binary_op_and_its_gradients(fun, ta, tb):
    scalar = lambda x, y: fanp.sum(fun(x, y))  # noqa: E731
    d0 = lambda x, y: fanp.sum(fa.grad(scalar, 0)(x, y))  # noqa: E731
    d1 = lambda x, y: fanp.sum(fa.grad(scalar, 1)(x, y))  # noqa: E731
    failures = []
    for a, b in _pairs():
        a, b = (ta or (lambda v: v))(a), (tb or (lambda v: v))(b)
        for f in (scalar, d0, d1):
            try:
                check_grads(f, a, b)
                check_grads(f, (0, 1))(a, b)
            except AssertionError as e:
                failures.append(f"{onp.shape(a)} {onp.shape(b)}: {str(e)[:200]}")
        try:
            compare_with_autograd(lambda np: fun, [a, b], [0, 1])
        except AssertionError as e:
            failures.append(f"vs autograd {onp.shape(a)} {onp.shape(b)}: {str(e)[:200]}")
    assert not failures, "\n".join(failures)


# -- test_complex.py ---------------------------------------------------------------------------

def test_gradient_of_real_part_is_real_or_complex_as_the_input():
    df = fa.grad(lambda x: fanp.sum(fanp.real(x)))
    assert onp.isrealobj(df(2.0)) and onp.iscomplexobj(df(1.0j))
    assert onp.isrealobj(df(1.0))


@pytest.mark.parametrize("name,points", [
    ("angle", (0.3, 0.4 + 0.7j)), ("abs", (1.1, 2.1, 1.1 + 1.2j, 1.1 + 1.3j))])
def test_complex_function_and_its_gradient(name, points):
    f = getattr(fanp, name)
    for x in points:
        check_grads(f)(x)
        check_grads(lambda x: fa.grad(f)(x))(x)
        compare_with_autograd(lambda np: getattr(np, name), [x], [0])
        compare_with_autograd(
            lambda np: fa.grad(getattr(np, name)) if np is fanp
            else importlib.import_module("autograd").grad(getattr(np, name)), [x], [0])


# -- test_logic.py -----------------------------------------------------------------------------

def test_assert_on_traced_values_and_boolean_outputs():
    def fun(x):
        assert fanp.allclose(x, (x * 3.0) / 3.0)
        return fanp.sum(x)
    check_grads(fun)(onp.array([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError):
        fa.grad(lambda x: fanp.allclose(x, (x * 3.0) / 3.0))(onp.array([1.0, 2.0, 3.0]))


def test_primitive_without_rules_raises_not_implemented():
    fun = fa.extend.primitive(lambda x: 2.0 * x)
    with pytest.raises(NotImplementedError):
        fa.grad(fun)(1.0)
    with pytest.raises(NotImplementedError):
        fa.deriv(fun)(1.0)


def test_python_branch_on_iscomplex():
    fun = lambda x: fanp.real(x ** 2 if fanp.iscomplex(x) else fanp.sum(x))  # noqa: E731
    for x in (2.0, 5.0, 2.0 + 1j):
        check_grads(fun)(x)


# -- test_jacobian.py --------------------------------------------------------------------------

def test_jacobian_cases():
    fun = lambda x: fanp.sum(fanp.sin(x), axis=1, keepdims=True)  # noqa: E731
    a = R(1, 3)
    onp.testing.assert_allclose(fa.grad(fun)(a), fa.jacobian(fun)(a).reshape(1, 3))
    v = R()
    onp.testing.assert_allclose(fa.jacobian(lambda x: fanp.array([x, x ** 2, x ** 3]))(v),
                                [1.0, 2 * v, 3 * v ** 2], rtol=1e-12)
    scalar_funs = [lambda x: fanp.sum(x ** 3),
                   lambda x: fanp.prod(fanp.sin(x) + fanp.sin(x)),
                   lambda x: fa.grad(lambda y: fanp.exp(y) * fanp.tanh(x[0]))(x[1])]
    x = R(5)
    jac = fa.jacobian(lambda x: fanp.array([f(x) for f in scalar_funs]))(x)
    onp.testing.assert_allclose(jac, onp.vstack([fa.grad(f)(x) for f in scalar_funs]),
                                rtol=1e-12)
    fun = lambda x: fanp.sin(fanp.outer(x, x)) + fanp.cos(fanp.dot(x, x))  # noqa: E731
    assert fa.jacobian(fun)(R(2)).shape == (2, 2, 2)
    assert fa.jacobian(fa.jacobian(fun))(R(2)).shape == (2, 2, 2, 2)
    check_grads(lambda x: fanp.sum(fanp.sin(fa.jacobian(fun)(x))))(R(2))
    check_grads(lambda x: fanp.sum(fanp.sin(fa.jacobian(fa.jacobian(fun))(x))))(R(2))


# -- test_builtins.py --------------------------------------------------------------------------

@pytest.mark.parametrize("type_,yes,no", [
    (list, [[]], [()]), (fanp.ndarray, [onp.zeros(1)], [[]]),
    ((tuple, list), [[], ()], [onp.zeros(1)])])
def test_builtins_isinstance_under_grad(type_, yes, no):
    def checker(ex, t, truth):
        assert fa.builtins.isinstance(ex, t) == truth
        return 1.0
    for ex in yes:
        checker(ex, type_, True)
        fa.grad(checker)(ex, type_, True)
    for ex in no:
        checker(ex, type_, False)
        fa.grad(checker)(ex, type_, False)


# -- test_truediv.py: x / y at every pair of shapes --------------------------------------------

def test_truediv_every_pair_of_shapes():
    gap = lambda v: onp.sqrt(v ** 2 + 0.5)  # noqa: E731
    for a, b in _pairs():
        check_grads(op.truediv)(gap(a), gap(b))


# -- test_direct.py: values written out, not through a checker ---------------------------------

def test_direct_values():
    fun = lambda x: (x + fanp.sin(x ** 2)) * x  # noqa: E731
    expected = 2 * 1.3 + onp.sin(1.3 ** 2) + 2 * 1.3 ** 2 * onp.cos(1.3 ** 2)
    assert abs(fa.grad(fun)(1.3) - expected) < 1e-12
    assert abs(fa.deriv(fun)(1.3) - expected) < 1e-12
    with pytest.raises(TypeError):
        fa.grad(lambda x: x * (1.0 + 0.2j))(1.0)
    g = fa.holomorphic_grad(lambda x: x * (1.0 + 0.2j))(1.0 + 0.0j)
    assert abs(g - (1.0 + 0.2j)) < 1e-12


# -- test_misc.py, test_flatten.py: const_graph and flatten ----------------------------------

def test_const_graph_value_and_calls():
    calls = []

    def foo(x, y):
        calls.append(None)
        return fa.grad(lambda x: fanp.sin(x) + x * 2)(x * y)
    wrapped = fa.misc.const_graph(foo)
    for x, y in ((0.0, 0.0), (1.0, 0.5), (1.0, 0.5)):
        onp.testing.assert_allclose(wrapped(x, y), foo(x, y), rtol=1e-14)
    # ours is functrans.jit, where Python numbers are static: each new pair of values is
    # staged (autograd traces once: 4 calls); a repeated pair is replayed (documented)
    assert len(calls) == 5
    calls.clear()
    for x, y in ((0.0, 0.0), (1.0, 0.5), (1.0, 0.5)):
        onp.testing.assert_allclose(wrapped(onp.array(x), onp.array(y)), foo(x, y), rtol=1e-14)
    assert len(calls) == 4  # arrays: staged once, then replayed


def test_const_graph_fixed_arguments():
    foo = lambda x, y, z: x + 2 * y + 3 * z  # noqa: E731
    wrapped = fa.misc.const_graph(foo, 1.0, z=3.0)
    for _ in range(2):
        onp.testing.assert_allclose(wrapped(2.0), foo(1.0, 2.0, 3.0))


FLATTEN_VALUES = [
    lambda: (1.0, R(2, 3), [R(1, 4), {"x": 2.0, "y": R(4, 2)}]),
    lambda: (1.0, 2.0, [3.0, {"x": 2.0, "y": 4.0}]),
    lambda: (R(4), [R(3, 4), 2.5], (), (2.0, [1.0, R(2)])),
    lambda: {"k": _R.random_sample((4, 4)), "k2": _R.random_sample((3, 3)), "k3": 3.0,
             "k4": [1.0, 4.0, 7.0, 9.0]},
    lambda: 2 + 3j,
]


@pytest.mark.parametrize("make", FLATTEN_VALUES)
def test_flatten_round_trip(make):
    val = make()
    vect, unflatten = fa.misc.flatten(val)
    back = unflatten(vect)
    onp.testing.assert_array_equal(fa.misc.flatten(back)[0], vect)
    leaves = [onp.ravel(v) for v in __import__("functrans").tree.leaves(val)]
    onp.testing.assert_array_equal(vect, onp.concatenate(leaves))
    if _ag_np() is not None:
        onp.testing.assert_array_equal(
            vect, importlib.import_module("autograd.misc").flatten(val)[0])


def test_flatten_of_floats_gives_the_floats_back():
    y = (1.0, 2.0, [3.0, {"x": 2.0, "y": 4.0}])
    flat, unflatten = fa.misc.flatten(y)
    assert flat.shape == (5,) and flat[0] == 1.0
    assert unflatten(flat) == y
    z = 2 + 3j
    flat, unflatten = fa.misc.flatten(z)
    assert onp.all(flat == onp.array([z])) and unflatten(flat) == z


# -- test_numpy_interp.py ----------------------------------------------------------------------

@pytest.mark.parametrize("edges", [{}, {"left": -1, "right": -1}])
def test_interp(edges):
    x = onp.arange(-20, 20, 0.1)
    xp = onp.arange(10) * 1.0
    yp = xp ** 0.5 + R(10)
    fun = lambda yp: fanp.sum(fanp.interp(x, xp, yp, **edges))  # noqa: E731
    check_grads(fun, yp)
    check_grads(lambda yp: fanp.sum(fa.grad(fun)(yp)), yp)
    xs = onp.arange(-100, 100, 0.1)
    onp.testing.assert_allclose(fanp.interp(xs, xp, xp ** 2, **edges),
                                onp.interp(xs, xp, xp ** 2, **edges))
    # (autograd 1.9.1 has no derivative of interp: its test of it predates that)


# -- test_vspaces.py: vector-space axioms of vspace(x) -----------------------------------------

@pytest.mark.parametrize("value", [onp.zeros((3, 2)), 0.0, 1.0j * onp.zeros((2, 1))],
                         ids=["array", "0-d", "complex"])
def test_vspace_axioms(value):
    vs = fa.extend.vspace(value)
    close = lambda a, b: abs(a - b) < 1e-10  # noqa: E731
    rnd = lambda: float(R())  # noqa: E731

    def same(x, y):
        z = vs.randn()
        return close(vs.inner_prod(z, x), vs.inner_prod(z, y))
    x, y, z = vs.randn(), vs.randn(), vs.randn()
    a, b = rnd(), rnd()
    add, mul, inner = vs.add, vs.scalar_mul, vs.inner_prod
    assert same(add(x, add(y, z)), add(add(x, y), z))
    assert same(add(x, y), add(y, x))
    assert same(add(vs.zeros(), x), x)
    assert same(vs.zeros(), add(x, mul(x, -1.0)))
    assert same(mul(x, a * b), mul(mul(x, a), b))
    assert same(mul(x, 1.0), x)
    assert same(mul(add(x, y), a), add(mul(x, a), mul(y, a)))
    assert same(mul(x, a + b), add(mul(x, a), mul(x, b)))
    assert vs == fa.extend.vspace(add(x, y)) and vs == fa.extend.vspace(mul(x, a))
    assert close(inner(x, y), inner(y, x))
    assert close(inner(mul(x, a), y), a * inner(x, y))
    assert inner(x, x) > 0 and close(0, inner(vs.zeros(), vs.zeros()))
    basis = list(vs.standard_basis())
    assert len(basis) == vs.size
    for (i, u), (j, w) in itertools.product(enumerate(basis), enumerate(basis)):
        assert close(inner(u, w), float(i == j))
    total = basis[0]
    for u in basis[1:]:
        total = add(total, u)
    assert same(total, vs.ones())
    for v in basis + [vs.zeros(), vs.ones(), vs.randn()]:
        assert vs == fa.extend.vspace(v)


# -- test_graphs.py: fan-out, closures, repeated differentiation, singleton outputs -----------

def _to_scalar(x):
    return fanp.sum(fanp.real(fanp.sin(x)))


def _graph_cases():
    v = R(10)
    fan = lambda x: fanp.sin(fanp.sin(x) + fanp.sin(x))  # noqa: E731
    two = lambda x, y: fanp.sin(fanp.sin(x) + fanp.sin(y))  # noqa: E731
    hv = lambda x, w: fanp.sin(fanp.dot(w, fa.grad(lambda x: fanp.sin(fanp.dot(x, v)))(x)))  # noqa

    def outgrad(a, index=False, shift=1.0):
        b = a + shift
        c = (b[0] if index else b) + 1.5
        return _to_scalar(a + b + c)

    def real_imag(a):
        return _to_scalar(fanp.abs(fanp.real(a)) ** 1.4 + fanp.abs(fanp.imag(a)) ** 1.3)
    cz = R(5, 3) + 0.1j * R(5, 3)
    return [
        ("fanout", fan, (R(),)), ("fanout_grad", fa.grad(fan), (0.4,)),
        ("fanout_grad_grad", fa.grad(fa.grad(fan)), (0.4,)),
        ("hess_vector_prod", hv, (R(10), R(10))),
        ("enclosing_scope", lambda x: x * fa.grad(lambda y: x * y)(2.0), (1.0,)),
        ("enclosing_scope_2", lambda x: x * fa.grad(lambda y: y * x)(2.0), (1.0,)),
        ("mutating_outgrad", outgrad, (R(5),)),
        ("mutating_outgrad_indexing", lambda a: outgrad(a, True), (R(5),)),
        ("complex_outgrad_indexing", lambda a: outgrad(a, True, 1.0j), (R(5),)),
        ("complex_outgrad_indexing_grad",
         lambda a: _to_scalar(fa.grad(lambda a: outgrad(a, True, 1.0j))(a)), (R(5),)),
        ("complex_real_imag", real_imag, (cz,)),
        ("complex_real_imag_grad", lambda a: _to_scalar(fa.grad(real_imag)(a)), (cz,)),
        ("third_derivative", fa.grad(fa.grad(fa.grad(fan))), (0.4,)),
        ("third_derivative_other_args", fa.grad(fa.grad(fa.grad(two), 1)), (R(), R())),
        ("third_derivative_other_args2", fa.grad(fa.grad(fa.grad(two, 1)), 1), (R(), R())),
    ] + [
        (f"singleton_output_{axis}_{keep}_{shape}",
         lambda x, axis=axis, keep=keep: fanp.sum(fanp.sin(x), axis=axis, keepdims=keep),
         (R(*shape),))
        for axis, keep, shape in ((None, True, (3, 3)), (0, True, (3, 1)), (1, True, (1, 3)),
                                  (0, False, (3, 1)), (1, False, (1, 3)))
    ]


GRAPH_CASES = _graph_cases()


@pytest.mark.parametrize("fun,args", [c[1:] for c in GRAPH_CASES], ids=[c[0] for c in GRAPH_CASES])
def test_graph_case(fun, args):
    check_grads(fun, tuple(range(len(args))))(*args)
    check_grads(fun, *args)


def test_constant_and_identity_functions():
    assert onp.allclose(fa.grad(lambda x: 1)(2.0), 0.0)
    df = fa.grad(lambda x: x)
    assert onp.allclose(df(2.0), 1.0) and onp.allclose(fa.grad(df)(2.0), 0.0)


@pytest.mark.parametrize("axis,keep,shape", [(None, True, (3, 3)), (0, True, (3, 1)),
                                             (1, True, (1, 3))])
def test_singleton_output_gradient_of_gradient(axis, keep, shape):
    fun = lambda x: fanp.sum(fanp.sin(x), axis=axis, keepdims=keep)  # noqa: E731
    check_grads(lambda x: fanp.sum(fa.grad(fun)(x)))(R(*shape))


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("trans", ["T", "N", "C", 0, 1, 2])
def test_solve_triangular(trans, lower):
    # autograd's later test_linalg.py: every trans option, each argument
    a, b1, b2 = R(6, 6) + 10 * onp.eye(6), R(6), R(6, 5)
    st = lambda np: _sp(np).linalg.solve_triangular  # noqa: E731
    kw = {"trans": [trans], "lower": [lower]}
    _run(st, [0], [[a], [b1]], kw, modes=("rev",), tol=1e-9)
    _run(st, [1], [[a], [b1, b2]], kw, modes=("rev",), tol=1e-9)


# autograd's current test_linalg.py adds pinv, eig and complex inputs; checked here through
# functions that do not depend on the eigen/singular vectors' arbitrary phases
def _herm(n):
    m = R(n, n) + 1j * R(n, n)
    return m @ m.conj().T + n * onp.eye(n)


LINALG_MORE = [
    ("pinv_square", lambda np: np.linalg.pinv, [R(4, 4)], ("fwd", "rev")),
    ("pinv_tall", lambda np: np.linalg.pinv, [R(5, 3)], ("fwd", "rev")),
    ("pinv_wide", lambda np: np.linalg.pinv, [R(3, 5)], ("fwd", "rev")),
    ("pinv_batched", lambda np: np.linalg.pinv, [R(2, 4, 3)], ("fwd", "rev")),
    ("eig_values_real", lambda np: lambda a: np.linalg.eig(a)[0], [R(4, 4)], ("rev",)),
    ("eig_vector_moduli_real", lambda np: lambda a: np.abs(np.linalg.eig(a)[1]), [R(4, 4)],
     ("rev",)),
    ("eig_values_complex", lambda np: lambda a: np.linalg.eig(a)[0],
     [R(3, 3) + 1j * R(3, 3)], ("rev",)),
    ("eig_values_batched", lambda np: lambda a: np.linalg.eig(a)[0], [R(2, 3, 3)], ("rev",)),
    ("svd_complex_s", lambda np: lambda a: np.linalg.svd(a, compute_uv=False),
     [R(4, 3) + 1j * R(4, 3)], ("rev",)),
    ("svd_complex_reconstruction", lambda np: lambda a: (lambda u, s, vh: np.abs(u) * s[None]
                                                         )(*np.linalg.svd(a, full_matrices=False)),
     [R(4, 3) + 1j * R(4, 3)], ("rev",)),
    # (eigh of a Hermitian-projected input: ours decomposes (a + a^H) / 2 by default and
    # NumPy's reads one triangle, so only on Hermitian directions do the two agree)
    ("eigh_complex_values", lambda np: lambda a: np.linalg.eigh(
        (a + np.conj(np.swapaxes(a, -1, -2))) / 2)[0], [_herm(4)], ("rev",)),
    ("eigh_complex_projectors", lambda np: lambda a: (lambda w, v: np.abs(v) ** 2)(
        *np.linalg.eigh((a + np.conj(np.swapaxes(a, -1, -2))) / 2)), [_herm(4)], ("rev",)),
    ("inv_complex", lambda np: np.linalg.inv, [R(3, 3) + 1j * R(3, 3) + 3 * onp.eye(3)],
     ("fwd", "rev")),
    ("det_complex", lambda np: np.linalg.det, [R(3, 3) + 1j * R(3, 3)], ("fwd", "rev")),
    ("solve_complex", lambda np: lambda a, b: np.linalg.solve(a, b),
     [R(3, 3) + 1j * R(3, 3) + 3 * onp.eye(3), R(3, 2) + 1j * R(3, 2)], ("fwd", "rev")),
]


def test_cholesky_of_complex_input_against_finite_differences():
    # autograd's cholesky derivative drops the conjugates (its gradient here is real and
    # wrong); ours is checked numerically and against a finite-difference gradient
    a = _herm(3)
    w, v = R(3, 3), R(3, 3)

    def loss(np):
        def f(a):
            chol = np.linalg.cholesky((a + np.conj(np.swapaxes(a, -1, -2))) / 2)
            return np.sum(np.real(chol) * w + np.imag(chol) * v)
        return f
    check_grads(loss(fanp), modes=["fwd", "rev"])(a)
    f, eps = loss(onp), 1e-6
    fd = onp.zeros((3, 3), complex)
    for i, j in itertools.product(range(3), range(3)):
        e = onp.zeros((3, 3))
        e[i, j] = eps
        fd[i, j] = ((f(a + e) - f(a - e)) + 1j * (f(a + 1j * e) - f(a - 1j * e))) / (2 * eps)
    # functrans's (and autograd's) convention for a real function of complex z: the
    # conjugate of df/dx + i df/dy
    onp.testing.assert_allclose(fa.grad(loss(fanp))(a), onp.conj(fd), atol=1e-7)
    agnp = _ag_np(required=True)
    import autograd
    assert not onp.allclose(autograd.grad(loss(agnp))(a), onp.conj(fd), atol=1e-3)


@pytest.mark.parametrize("make,args,modes", [c[1:] for c in LINALG_MORE],
                         ids=[c[0] for c in LINALG_MORE])
def test_linalg_more(make, args, modes):
    _run(make, list(range(len(args))), [[a] for a in args], modes=modes, tol=1e-8)


# test_systematic.py, later additions: the rest of NumPy's array functions
def _einsum_sublists(np):
    return lambda *ops: np.einsum(*ops)


COMBOS_MORE = [
    ("repeat", lambda np: np.repeat, [0], [[R(2, 3, 4), R(3, 1)]],
     {"repeats": [0, 1, 2], "axis": [None, 0, 1]}),
    ("diff", lambda np: np.diff, [0], [[R(5, 5), R(5, 5, 5)]], {"n": [1, 2], "axis": [0, 1]}),
    ("diff_length_1", lambda np: np.diff, [0], [[R(1), R(1, 1)]], {"axis": [0]}),
    ("diff_axis1", lambda np: np.diff, [0], [[R(1, 1), R(3, 1)]], {"axis": [1]}),
    # (repeats= and reps= by keyword, as NumPy takes them: functrans's were positional-only)
    ("tile_4d", lambda np: np.tile, [0], [[R(2, 1, 3, 1)]], {"reps": [(1, 4, 1, 2)]}),
    ("tile_2d", lambda np: np.tile, [0], [[R(1, 2)]], {"reps": [(1, 2), (2, 3), (3, 2, 1)]}),
    ("tile_1d", lambda np: np.tile, [0], [[R(1)]], {"reps": [(2,), 2]}),
    ("kron", lambda np: np.kron, [0, 1], [[R(5, 5), R(4, 4)], [R(3, 3), R(2, 2)]], {}),
    ("inner", lambda np: np.inner, [0, 1], [[1.5, R(3), R(2, 3)], [0.3, R(3), R(4, 3)]], {}),
    ("dot_3d", lambda np: np.dot, [0, 1],
     [[1.5, R(3), R(2, 3), R(2, 2, 3)], [0.3, R(3), R(3, 4), R(2, 3, 4)]], {}),
    ("matmul", lambda np: np.matmul, [0, 1],
     [[R(3), R(2, 3), R(2, 2, 3)], [R(3), R(3, 4), R(2, 3, 4)]], {}),
    ("tensordot_5", lambda np: np.tensordot, [0, 1], [[R(4)], [R()]], {"axes": [0]}),
    ("tensordot_6", lambda np: np.tensordot, [0, 1], [[R(2, 6)], [R(6, 3)]],
     {"axes": [[[-1], [0]]]}),
    ("fmax", lambda np: np.fmax, [0, 1], [[R(1), R(1, 4), R(3, 4)], [R(1), R(1, 4), R(3, 4)]],
     {}),
    ("fmin", lambda np: np.fmin, [0, 1], [[R(1), R(1, 4), R(3, 4)], [R(1), R(1, 4), R(3, 4)]],
     {}),
    ("einsum_matmult_broadcast", lambda np: np.einsum, [1, 2],
     [["...ij,...jk->...ik"], [R(2, 3), R(2, 2, 3)], [R(3, 4), R(2, 3, 4)]], {}),
    ("einsum_ellipses_2d", lambda np: np.einsum, [1, 2],
     [["...jk,...lj->...lk", "...,...->..."], [R(4, 4), R(3, 4, 4)], [R(4, 4), R(3, 4, 4)]],
     {}),
    ("einsum_ellipses_tail", lambda np: np.einsum, [1, 2],
     [["jk...,lj...->lk..."], [R(3, 2), R(3, 2, 4)], [R(2, 3), R(2, 3, 4)]], {}),
    ("einsum_ellipses_center", lambda np: np.einsum, [1, 2],
     [["j...k,lj...->lk..."], [R(2, 2), R(2, 2, 2)], [R(2, 2), R(2, 2, 2)]], {}),
    ("einsum_sublist_transpose", _einsum_sublists, [0],
     [[R(1, 1), R(4, 4), R(3, 4)], [[0, 1]], [[1, 0]]], {}),
    ("einsum_sublist_matmult", _einsum_sublists, [0, 2],
     [[R(2, 3)], [[0, 1]], [R(3, 4)], [[1, 2]], [[0, 2]]], {}),
    ("einsum_sublist_matmult_broadcast", _einsum_sublists, [0, 2],
     [[R(2, 3), R(2, 2, 3)], [[Ellipsis, 0, 1]], [R(3, 4), R(2, 3, 4)], [[Ellipsis, 1, 2]],
      [[Ellipsis, 0, 2]]], {}),
    ("einsum_sublist_covsum", _einsum_sublists, [0, 2],
     [[R(3, 4, 4)], [[0, 1, 2]], [R(4, 4, 3)], [[3, 1, 0]], [[3, 2, 0]]], {}),
    ("einsum_sublist_three_args", _einsum_sublists, [0, 2],
     [[R(3, 4, 4)], [[0, 1, 2]], [R(4, 4, 3)], [[3, 1, 0]], [R(4, 4, 3)], [[3, 3, 0]],
      [[3, 2, 0]]], {}),
    ("trace_3d", lambda np: np.trace, [0], [[R(3, 4, 5)]], {"offset": [-1, 0, 1]}),
    ("diag_k", lambda np: np.diag, [0], [[R(5, 5), R(5)]], {"k": [-1, 0, 1]}),
    ("tril_k", lambda np: np.tril, [0], [[R(5, 5), R(5, 5, 4)]], {"k": [-1, 0, 1]}),
    ("triu_k", lambda np: np.triu, [0], [[R(5, 5), R(5, 5, 4)]], {"k": [-1, 0, 1]}),
    ("swapaxes", lambda np: np.swapaxes, [0], [[R(3, 4, 5)]],
     {"axis1": [0, 1, 2], "axis2": [0, 1, 2]}),
    ("rollaxis", lambda np: np.rollaxis, [0], [[R(2, 3, 4)]],
     {"axis": [0, 1, 2], "start": [0, 1, 2, 3]}),
    ("cross", lambda np: np.cross, [0, 1], [[R(3, 3)], [R(3, 3)]],
     {"axisa": [-1, 0, 1], "axisb": [-1, 0, 1], "axisc": [-1, 0, 1], "axis": [None, -1, 0, 1]}),
    ("vsplit", lambda np: np.vsplit, [0], [[R(4, 8), R(4, 4, 4)], [2, [1, 2]]], {}),
    ("hsplit", lambda np: np.hsplit, [0], [[R(4, 8), R(4, 4, 4)], [2, [1, 2]]], {}),
    ("dsplit", lambda np: np.dsplit, [0], [[R(4, 4, 4)], [2, [1, 2]]], {}),
    ("split_1d", lambda np: np.split, [0], [[R(1), R(7)], [1]], {"axis": [0]}),
    ("split_2d", lambda np: np.split, [0], [[R(4, 8)], [4, [1, 2]]], {"axis": [0, 1]}),
    ("split_3d", lambda np: np.split, [0], [[R(4, 4, 4)], [2, [1, 2]]], {"axis": [0, 1, 2]}),
    ("array_split_1d", lambda np: np.array_split, [0], [[R(1), R(7)], [1, 3]], {"axis": [0]}),
    ("array_split_2d", lambda np: np.array_split, [0], [[R(7, 7)], [4, [3, 5]]],
     {"axis": [0, 1]}),
    ("array_split_3d", lambda np: np.array_split, [0], [[R(7, 7, 7)], [4, [3, 5]]],
     {"axis": [0, 1, 2]}),
    ("concatenate_tuple", lambda np: np.concatenate, [0], [[(R(1), R(3)), [R(1), R(3)]]],
     {"axis": [0]}),
    ("concatenate_2d", lambda np: np.concatenate, [0], [[(R(2, 2), R(2, 2))]], {"axis": [0, 1]}),
    ("concatenate_3d", lambda np: np.concatenate, [0], [[(R(2, 2, 2), R(2, 2, 2))]],
     {"axis": [0, 1, 2]}),
    ("vstack", lambda np: np.vstack, [0],
     [[R(2), (R(2), R(2)), R(2, 3), (R(2, 4), R(1, 4)), R(2, 3, 4), (R(2, 3, 4), R(5, 3, 4))]],
     {}),
    ("hstack", lambda np: np.hstack, [0],
     [[R(2), (R(2), R(2)), R(3, 2), (R(3, 4), R(3, 5)), R(2, 3, 4), (R(2, 1, 4), R(2, 5, 4))]],
     {}),
    ("stack", lambda np: np.stack, [0], [[(R(2),), (R(2), R(2))]], {"axis": [0, 1]}),
    ("column_stack", lambda np: np.column_stack, [0],
     [[R(2), (R(2), R(2)), R(2, 2), (R(2, 2), R(2, 2))]], {}),
    ("select", lambda np: np.select, [1],
     [[[R(3, 4, 5) > 0, R(3, 4, 5) > 0, R(3, 4, 5) > 0]], [[R(3, 4, 5), R(3, 4, 5), R(3, 4, 5)]]],
     {"default": [0.0, 1.1]}),
]


# autograd 1.9.1 under NumPy 2 differentiates the split family wrongly (the gradient of a
# weighted sum of the pieces puts the first piece's weights on every piece, or fails for
# split points given as a list): checked numerically here, and pinned below
_AUTOGRAD_WRONG = {"vsplit", "hsplit", "dsplit", "split_1d", "split_2d", "split_3d",
                   "array_split_1d", "array_split_2d", "array_split_3d"}


@pytest.mark.parametrize("case", COMBOS_MORE, ids=[c[0] for c in COMBOS_MORE])
def test_combination_more(case):
    name, make, nums, arg_lists, kws = case
    _run(make, nums, arg_lists, kws, compare=name not in _AUTOGRAD_WRONG)


@pytest.mark.parametrize("name,sections,axis", [("vsplit", 2, 0), ("hsplit", [1, 3], 1),
                                                ("array_split", 3, 0), ("split", [1, 2], 1)])
def test_split_gradient_gives_each_piece_its_weights(name, sections, axis):
    x = R(4, 6)

    def cut(np, x):
        f = getattr(np, name)
        return f(x, sections, axis) if name in ("split", "array_split") else f(x, sections)
    ws = [R(*p.shape) for p in cut(onp, x)]

    def loss(x):
        return sum(fanp.sum(fanp.real(p) * w) for p, w in zip(cut(fanp, x), ws))
    onp.testing.assert_array_equal(fa.grad(loss)(x), onp.concatenate(ws, axis=axis))


def test_einsum_with_a_repeated_index_in_an_operand():
    # ijk,lji,lli->lki differentiated in its third operand too (the diagonal it reads):
    # autograd's derivative raises there; ours is checked
    ops = [R(3, 4, 4), [0, 1, 2], R(4, 4, 3), [3, 1, 0], R(4, 4, 3), [3, 3, 0], [3, 2, 0]]
    check_grads(fanp.einsum, (0, 2, 4))(*ops)


def test_solve_banded():
    # test_scipy.py: l = u = 1, a (3, 5) band, b (5,), first order, reverse mode
    sb = lambda np: _sp(np).linalg.solve_banded  # noqa: E731
    band = R(3, 5)
    band[1] += 4.0  # (diagonally dominant)
    _run(sb, [1, 2], [[(1, 1)], [band], [R(5)]], modes=("rev",), order=1, tol=1e-9)


# autograd's current test_wrappers.py: the other operators
def test_grad_and_aux_make_jvp_make_hvp_make_ggnvp_grad_named_deriv():
    x, v = R(4), R(4)
    fun = lambda x: fanp.sum(fanp.sin(x) * x ** 2)  # noqa: E731
    g, aux = fa.grad_and_aux(lambda x: (fun(x), fanp.cos(x)))(x)
    onp.testing.assert_allclose(g, fa.grad(fun)(x), rtol=1e-14)
    onp.testing.assert_allclose(aux, onp.cos(x), rtol=1e-14)
    vec = lambda x: fanp.tanh(fanp.roll(x, 1) * x)  # noqa: E731
    ans, jv = fa.make_jvp(vec)(x)(v)
    onp.testing.assert_allclose(jv, fa.jacobian(vec)(x) @ v, rtol=1e-12)
    onp.testing.assert_allclose(ans, vec(x), rtol=1e-14)
    hvp, grad_x = fa.make_hvp(fun)(x)
    onp.testing.assert_allclose(hvp(v), fa.hessian(fun)(x) @ v, rtol=1e-12)
    onp.testing.assert_allclose(grad_x, fa.grad(fun)(x), rtol=1e-14)
    # Gauss-Newton: J^T H_g J v with f = vec, g a function of f's output
    gfun = lambda y: fanp.sum(y ** 4)  # noqa: E731
    j, hg = fa.jacobian(vec)(x), fa.hessian(gfun)(vec(x))
    onp.testing.assert_allclose(fa.make_ggnvp(vec, gfun)(x)(v), j.T @ hg @ j @ v, rtol=1e-11)
    gn = fa.grad_named(lambda a, b: fanp.sum(a * fanp.sin(b)), "b")(x, v)
    onp.testing.assert_allclose(gn, x * onp.cos(v), rtol=1e-14)
    onp.testing.assert_allclose(fa.deriv(fanp.tanh)(0.3), 1 - onp.tanh(0.3) ** 2, rtol=1e-14)
    agnp = _ag_np(required=True)
    compare = importlib.import_module("autograd")
    onp.testing.assert_allclose(
        fa.make_ggnvp(vec, gfun)(x)(v),
        compare.make_ggnvp(lambda x: agnp.tanh(agnp.roll(x, 1) * x),
                           lambda y: agnp.sum(y ** 4))(x)(v), rtol=1e-11)


def test_odeint():
    # test_scipy.py: derivatives in the initial state, the times and the extra arguments
    def make(np):
        def func(y, t, arg1, arg2):
            return -np.sqrt(t) - y + arg1 - np.mean((y + arg2) ** 2)
        return lambda y0, t, args: _sp(np).integrate.odeint(func, y0, t, args)
    _run(make, [0, 1, 2], [[R(3)], [onp.linspace(0.1, 0.2, 4)], [(R(3), R(3))]],
         modes=("rev",), tol=1e-6)
