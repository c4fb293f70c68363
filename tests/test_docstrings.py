"""The examples in the public docstrings run and print what they say."""

import doctest

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import api, checkpointing, custom


@pytest.mark.parametrize("module", [api, checkpointing, custom], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, extraglobs={"ft": ft, "fnp": fnp, "np": np},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_lax_all_has_the_collectives():
    """``from functrans.lax import *`` (and the API reference, filtered by ``__all__``) sees
    the collectives, as every other jax.lax name."""
    import functrans.collectives
    import functrans.lax

    missing = [n for n in functrans.collectives.__all__ if n not in functrans.lax.__all__]
    assert not missing
    ns = {}
    exec("from functrans.lax import *", ns)
    assert ns["psum"] is functrans.lax.psum and ns["axis_index"] is functrans.lax.axis_index
