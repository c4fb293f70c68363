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
