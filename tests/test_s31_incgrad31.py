"""Session 31 (incgrad31): derivatives of the incomplete gamma and beta functions in their
shape parameters.

Large a near x = a: d^n P(a, x) / da^n (n = 1, 2, 3) was nan for a of about 5e6 and beyond
(n = 1, 2: the series and the fraction need about 8 sqrt(a) steps) and raised
NotImplementedError for n = 3 from a of about 2e5 near x = a + 1 (its series refused past
4000 terms); Temme's uniform expansion differentiated in a gives them now
(functrans.backends.incomplete_grads.gammainc_da_temme)."""
import math

import numpy as np
import pytest

import functrans as ft
import functrans.backends as backends
import functrans.scipy.special as fs
from functrans.backends import incomplete_grads as ig
from functrans.primitives.special import _gammainc_da_impl

xs = pytest.importorskip("array_api_strict")
torch = pytest.importorskip("torch")

# (a, x, P', P'', P''') with x = a (1 + t / sqrt(a)), t in (-5, -1.5, 0.3, 2, 5). Reference:
# mpmath, dps 50: mp.quad of the density t^(a-1) e^-t / Gamma(a) times Y_n (Y_1 = w,
# Y_2 = w^2 - psi1(a), Y_3 = w^3 - 3 w psi1(a) - psi2(a), w = log t - digamma(a)) over
# [a - 60 sqrt(a), x] for x < a and minus that over [x, a + 60 sqrt(a) + 60] for x > a,
# split every sqrt(a) (the integral over (0, inf) is 0); the same quadrature agrees with
# mp.diff of mpmath.gammainc(a, 0, x, regularized=True) to 1e-15 at a = 50 .. 300.
_LARGE_A = [
    (1000000.0, 995000.0, -1.4293985877821201063e-9, 7.1649208009686394236e-12, -3.4485069464404801024e-14),
    (1000000.0, 998500.0, -0.00012946894314936476813, 1.9434922930826562726e-7, -1.6227377614038599955e-10),
    (1000000.0, 1000300.0, -0.00038133408172410172184, -1.1438307741493338887e-7, 3.470243336465853219e-10),
    (1000000.0, 1002000.0, -0.000054080860028467673817, -1.080537113364963147e-7, -1.6181075639978787988e-10),
    (1000000.0, 1004999.9999999999, -1.5458722898508542678e-9, -7.7101028587754982286e-12, -3.6908588847102046559e-14),
    (10000000.0, 9984188.611699158, -4.6434789946725013344e-10, 7.3477954807211345789e-13, -1.1162731381069900845e-15),
    (10000000.0, 9995256.583509747, -0.000040952200391886628768, 1.942994300701526531e-8, -5.1233977700206783399e-12),
    (10000000.0, 10000948.68329805, -0.00012060004062751616643, -1.1440581858117299243e-8, 1.097470674071270701e-11),
    (10000000.0, 10006324.555320336, -0.000017082438327544897938, -1.0800467663036688272e-8, -5.1204125487456905276e-12),
    (10000000.0, 10015811.388300842, -4.7599400906709857658e-10, -7.5201825081288724048e-13, -1.1405068327724781614e-15),
    (100000000.0, 99950000.0, -1.4809056819852581987e-10, 7.4063801654763976921e-14, -3.5560256237387802554e-17),
    (100000000.0, 99985000.0, -0.00001295127379228507475, 1.9428367868638853614e-9, -1.6193463934149949609e-13),
    (100000000.0, 100003000.0, -0.000038138243831184157933, -1.1441301540221611536e-9, 3.4705904882868405163e-13),
    (100000000.0, 100020000.0, -5.3999964092815744082e-6, -1.0798912972258244361e-9, -1.6195670054062878504e-13),
    (100000000.0, 100050000.0, -1.4925516655241223803e-10, -7.4608932659194027508e-14, -3.580259168486497064e-17),
    (10000000000.0, 9999500000.0, -1.4861373078408719349e-11, 7.430872312622234844e-16, -3.5669153145569753335e-20),
    (10000000000.0, 9999850000.0, -1.2951710996657692246e-6, 1.9427712203354233328e-11, -1.619007587245650823e-16),
    (10000000000.0, 10000030000.0, -3.8138727770789950108e-6, -1.1441601168939156453e-11, 3.4706252569107652455e-16),
    (10000000000.0, 10000200000.0, -5.399186635348152485e-7, -1.0798265288493344607e-11, -1.6197127979347235348e-16),
    (10000000000.0, 10000500000.000002, -1.4873019046662540343e-11, -7.4363236168803816315e-16, -3.5693386670706337108e-20),
    (1000000000000.0, 999995000000.0, -1.4866612858025320945e-12, 7.4333250123412969005e-18, -3.568005669277930305e-23),
    (1000000000000.0, 999998500000.0, -1.295175470967100433e-7, 1.9427646635246744587e-13, -1.6189737099324782478e-19),
    (1000000000000.0, 1000000300000.0, -3.8138776168488405788e-7, -1.1441631134302890869e-13, 3.4706287343073728789e-19),
    (1000000000000.0, 1000002000000.0, -5.399105649804075596e-8, -1.0798200501412149027e-13, -1.6197273756649364563e-19),
    (1000000000000.0, 1000005000000.0, -1.4867777454978669546e-12, -7.4338701428300843791e-18, -3.5682480045588486531e-23),
]


def _numpy_da(n, a, x):
    bk = backends.get_backend("numpy")
    return _gammainc_da_impl(bk, np.asarray(a, dtype=np.float64), np.asarray(x, dtype=np.float64),
                             n=n)


def test_gammainc_shape_derivatives_at_large_a_near_x_equal_a():
    # before: nan for n = 1, 2 from a of about 5e6; NotImplementedError for n = 3 (from a of
    # about 2e5 near x = a + 1)
    ref = np.array(_LARGE_A)
    a, x = ref[:, 0], ref[:, 1]
    for n in (1, 2, 3):
        got = _numpy_da(n, a, x)
        np.testing.assert_allclose(got, ref[:, 1 + n], rtol=2e-14, atol=0)


def test_gammainc_shape_derivatives_where_the_third_was_refused():
    # (2e5, 2e5 + 1): the third derivative's series needed more than 4000 terms (raised);
    # the same quadrature as _LARGE_A
    ref = (-0.00089205796948013097, -4.4602786967082494e-9, 4.4602694045089744e-9)
    for n in (1, 2, 3):
        assert abs(float(_numpy_da(n, [2e5], [2e5 + 1.0])[0]) / ref[n - 1] - 1.0) < 1e-13
    d3 = ft.grad(ft.grad(ft.grad(fs.gammainc)))(np.float64(1e6), np.float64(1e6))
    # quadrature as above: 3.9894234689175595e-10
    assert abs(d3 / 3.9894234689175595e-10 - 1.0) < 1e-13


def _torch(v):
    return torch.tensor(v, dtype=torch.float64)


def _strict(v):
    return xs.asarray(v, dtype=xs.float64)


@pytest.mark.parametrize("make", [np.float64, _torch, _strict])
def test_gammainc_and_gammaincc_grads_at_huge_shape_every_backend(make):
    # the third row of _LARGE_A for a = 1e8: through grad, on every backend
    a, x, d1, d2, d3 = _LARGE_A[12]
    g = ft.grad(fs.gammainc)
    vals = [float(g(make(a), make(x))), float(ft.grad(g)(make(a), make(x))),
            float(ft.grad(ft.grad(g))(make(a), make(x)))]
    np.testing.assert_allclose(vals, [d1, d2, d3], rtol=2e-14)
    assert abs(float(ft.grad(fs.gammaincc)(make(a), make(x))) / -d1 - 1.0) < 2e-14


def test_temme_region_edges_continuous_with_the_series_and_fraction():
    # at |x / a - 1| = 0.3 (a = 1e4) and a = 50 (mu = 0.1) the expansion and the loops agree
    bk = backends.get_backend("numpy")
    for a, x in ((1e4, 1.3e4), (1e4, 7e3), (50.0, 55.0), (50.0, 40.0)):
        av, xv = np.array([a]), np.array([x])
        assert ig.temme_da_region(av, xv)[0]
        for n in (1, 2):
            tem = ig.gammainc_da_temme(bk, n, av, xv)[0]
            # the loops' value: just outside the region / below its a
            if a > 50.0:
                xo = np.nextafter(xv, 2 * xv if x > a else 0 * xv)
                assert not ig.temme_da_region(av, xo)[0]
                other = bk.extra("gammainc_da")(n, av, xo)[0]
            else:
                ao = np.nextafter(av, 0 * av)
                assert not ig.temme_da_region(ao, xv)[0]
                other = bk.extra("gammainc_da")(n, ao, xv)[0]
            assert abs(tem / other - 1.0) < 1e-12, (a, x, n, tem, other)


def test_gammainc_da_mixed_elements_match_one_by_one():
    # one call whose elements take the expansion, the series, the fraction and the edges
    a = np.array([1e7, 1e7, 1e7, 3.0, 3.0, 2e5, 1e7, 1e7, -1.0, np.nan, 1e7])
    x = np.array([1e7 - 3e3, 1e7 + 4e3, 2e7, 1.0, 9.0, 2e5 + 1, 0.0, np.inf, 1.0, 1.0, 5e6])
    bk = backends.get_backend("numpy")
    for n in (1, 2):
        whole = bk.extra("gammainc_da")(n, a, x)
        single = np.array([bk.extra("gammainc_da")(n, a[i:i + 1], x[i:i + 1])[0]
                           for i in range(a.size)])
        np.testing.assert_allclose(whole, single, rtol=4e-15, atol=0)
        assert np.all(np.isfinite(whole[:8])) and np.all(whole[6:8] == 0.0)
        assert np.all(np.isnan(whole[8:10]))
    whole = _numpy_da(3, a, x)
    assert np.all(np.isfinite(whole[:8])) and np.all(np.isnan(whole[8:10]))


def test_betainc_fourth_shape_derivative_error_says_what_is_supported():
    # (the third order in the shapes is there since session 35)
    f = ft.grad(ft.grad(ft.grad(lambda a: fs.betainc(a, 2.0, 0.3))))
    assert math.isfinite(float(f(np.float64(1.5))))
    with pytest.raises(NotImplementedError,
                       match=r"betainc: the fourth derivative with respect to the shape "
                             r"parameters a, b is not implemented \(asked: one more than order 3 "
                             r"in a and 0 in b\)\. The first three are, pure and mixed"):
        ft.grad(f)(np.float64(1.5))
    g = ft.grad(lambda b: ft.grad(ft.grad(lambda a: fs.betainc(a, b, 0.3)))(np.float64(1.5)))
    assert math.isfinite(float(g(np.float64(2.0))))
    with pytest.raises(NotImplementedError, match=r"order 2 in a and 1 in b"):
        ft.grad(g)(np.float64(2.0))


def test_betainc_shape_derivative_large_ratio_near_one():
    # (an xfail until session 32: the fraction with p >> q and u close to 1 lost about
    # eps / (1 - u) a step, 1e-10 .. 7e-10 relative here; now the complement's series,
    # incomplete_grads._beta_complement_series)
    # references: mpmath (dps 50) quad of the density t^(a-1) (1-t)^(b-1) / B(a, b) times
    # log t - digamma(a) + digamma(a + b) over the smaller side (session 31's
    # /tmp/inc31/beta_quad.py); the first also mp.diff of -betainc(b, a, 0, 1 - x) at dps 80
    bk = backends.get_backend("numpy")
    cases = [(1e8, 50.0, 0.9999993939343128, -1.049008436769875e-8),
             (0.3, 1e6, 1.6693050029231261e-06, -0.14704468005058965),
             (1e4, 1e8, 0.00010248962603427267, -0.00018220043844681834)]
    for a, b, x, ref in cases:
        got = bk.extra("betainc_dab")(1, 0, np.array([a]), np.array([b]), np.array([x]))[0]
        assert abs(got / ref - 1.0) < 1e-12, (a, b, x, got, ref)
