"""autograd's own test cases, run through functrans.autograd.

The cases (which functions, at which argument shapes and values, differentiated with
respect to which arguments, to which order, and which behaviours are asserted) follow the
test suite of HIPS/autograd: tests/test_systematic.py and numpy_utils.py (the statistics,
unary and binary ufunc sweeps and the combination checks), test_numpy.py, test_linalg.py,
test_scipy.py, test_fft.py, test_wrappers.py, test_core.py, test_dict.py, test_list.py,
test_tuple.py, test_jacobian.py, test_builtins.py, test_complex.py, test_logic.py,
test_binary_ops.py, test_scalar_ops.py, test_truediv.py, test_direct.py, test_vspaces.py,
test_flatten.py and test_numpy_interp.py. The code here is our own: each case is an entry of a
table, run through ``functrans.autograd.test_util.check_grads`` (forward and reverse mode,
to the second order, autograd's defaults) and, where cheap, side by side with the real
autograd (its value and the gradient of a fixed weighted sum of its output), skipped where
autograd is not installed.
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


def _ag_np():
    pytest.importorskip("autograd")
    return importlib.import_module("autograd.numpy")


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
    import autograd
    kwargs = kwargs or {}
    ours_f, theirs_f = make(fanp), make(agnp)
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


def _run(make, nums, arg_lists, kw_lists=None, *, order=2, modes=("fwd", "rev"),
         compare=True, tol=1e-10):
    """autograd's ``combo_check``: every combination of the candidate arguments and keyword
    arguments; every failure is collected and reported together."""
    kw_lists = kw_lists or {}
    names = list(kw_lists)
    fun = make(fanp)
    failures = []
    for args in itertools.product(*arg_lists):
        for kvals in itertools.product(*(kw_lists[n] for n in names)):
            kwargs = dict(zip(names, kvals))
            where = f"shapes {[onp.shape(a) for a in args]} kwargs {kwargs}"
            try:
                check_grads(fun, tuple(nums), modes=list(modes), order=order)(*args, **kwargs)
                if compare:
                    compare_with_autograd(make, args, nums, kwargs, tol)
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
    agnp = _ag_np()
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
