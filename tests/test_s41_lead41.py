"""Session 41, the lead: fixes found while merging the helpers' work."""

import numpy as np
import pytest

import functrans as ft
import functrans.lax.linalg as lax_linalg


@pytest.mark.parametrize("dtype", [np.float32, np.complex64])
def test_staged_hessenberg_keeps_single_precision(dtype):
    # (scilinalg41 found it: special._nan_slope's zero term was where() of two Python
    # floats, float64, so jit(lax.linalg.hessenberg) of a float32 matrix gave float64)
    rng = np.random.default_rng(41)
    x = rng.standard_normal((4, 4)).astype(dtype)
    eager = lax_linalg.hessenberg(x)
    staged = ft.jit(lax_linalg.hessenberg)(x)
    for e, s in zip(eager, staged):
        assert s.dtype == e.dtype == dtype
        np.testing.assert_allclose(s, e, rtol=1e-5, atol=1e-5)


def test_jet_names_a_primitive_without_a_jvp_rule():
    # (both of JetInterpreter's paths: plain series, and an operand that steps at t = 0)
    from functrans.core import Primitive
    from functrans.errors import MissingRuleError
    from functrans.experimental.jet import jet
    import functrans.numpy as fnp

    p = Primitive("lead41_no_jvp_rule")
    p.def_impl(lambda backend, x: x * 2.0)
    p.def_abstract_eval(lambda a: a)
    match = "'lead41_no_jvp_rule' has no JVP rule, so jet"
    with pytest.raises(MissingRuleError, match=match):
        jet(p.bind, (np.float64(0.5),), ((np.float64(1.0),),))
    with pytest.raises(MissingRuleError, match=match):
        jet(lambda x: p.bind(fnp.where(x > 0, x, 0.0)), (np.float64(0.0),),
            ((np.float64(1.0),),))
