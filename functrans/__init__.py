"""functrans: JAX-style composable function transformations for the arrays you already use.

    import functrans as ft
    import functrans.numpy as fnp

    def f(x1, x2):
        return x1 * x2 + fnp.exp(x1 * x2) - fnp.sin(x2)

    ft.grad(f, argnums=(0, 1))(1.5, 0.5)
"""

import sys as _sys

from .backends import allocator as _allocator  # noqa: F401  (glibc malloc tuning: docs/backends.md)
from . import core, dtypes, errors  # noqa: F401
from .backends import numpy_backend as _numpy_backend  # noqa: F401  (the default backend)
from . import numpy  # noqa: F401
from .api import (ShapeDtypeStruct, elementwise_grad, eval_shape, grad,  # noqa: F401
                  hessian, hvp, jacfwd, jacobian, jacrev, jvp, linear_transpose, linearize,
                  make_graph, pmap, value_and_grad, vjp, vmap)
from .backends import default_backend  # noqa: F401
from . import checkpointing  # noqa: F401  (checkpoint/remat: below, from toplevel)
from .compiling import jit  # noqa: F401
from .custom import closure_convert, custom_jvp, custom_vjp  # noqa: F401
from . import lax  # noqa: F401
from .lax_ops import block_until_ready, device_put, disable_jit  # noqa: F401
from . import image, nn, ops, random, tree  # noqa: F401  (ft.nn.relu after import functrans, as jax)
# functrans.numpy.special: SciPy's special functions, reached as the Array API's anticipated
# ``special`` extension (SciPy with SCIPY_ARRAY_API=1 calls ``xp.special.erf`` for a namespace
# that has one), so scipy.special.erf(tracer) is functrans's, differentiable. Set here, not by a
# module __getattr__ there (see functrans/numpy/__init__.py); nn imported it above.
numpy.special = _sys.modules["functrans.scipy.special"]
from .numpy import stop_gradient  # noqa: F401
from .tree import register_pytree_node  # noqa: F401

# JAX's other top-level names (functrans/toplevel.py, config.py, callbacks.py, debug.py,
# jaxpr.py, custom_batching.py, checkpoint_policies.py). checkpoint/remat: the version taking
# JAX's keyword arguments (policy=...).
from .toplevel import (Array, checkpoint, clear_caches, custom_gradient,  # noqa: F401,E402
                       device_count, device_get, devices, effects_barrier,
                       ensure_compile_time_eval, float0,
                       local_device_count, local_devices, named_call, named_scope,
                       process_count, process_index, remat, typeof, fwd_and_bwd)
from .config import (config, debug_infs, debug_nans, default_device,  # noqa: F401,E402
                     default_matmul_precision, enable_x64, numpy_dtype_promotion,
                     numpy_rank_promotion)
from .callbacks import pure_callback  # noqa: F401,E402
from .jaxpr import make_jaxpr  # noqa: F401,E402
from . import (ad_checkpoint, checkpoint_policies, custom_batching,  # noqa: F401,E402
               custom_derivatives, debug, experimental, flatten_util, typing)

# jax.tree_util's names live in functrans.tree; ``import functrans.tree_util`` finds it too.
tree_util = tree
_sys.modules[__name__ + ".tree_util"] = tree

__version__ = "0.1.0"

# torch.func's names that functrans spells JAX's way or has no need for: AttributeError with
# what to write instead.
_TORCH_FUNC_NAMES = {
    "grad_and_value": "value_and_grad (JAX's name), which returns (value, grad) where "
                      "torch.func's grad_and_value returns (grad, value)",
    "functional_call": "no such call: the transforms take functions of pytrees of arrays; "
                       "write the model as a function of a dict of parameters",
    "stack_module_state": "functrans.tree.map(lambda *a: functrans.numpy.stack(a), *params) "
                          "over the models' parameter pytrees",
    "functionalize": "no such transform: functrans's functions are functional already (an "
                     "index update is x.at[i].set(v), a new array)",
}


def __getattr__(name):
    hint = _TORCH_FUNC_NAMES.get(name)
    if hint is not None:
        raise AttributeError(f"functrans has no {name!r} (a torch.func name); use {hint}.")
    raise AttributeError(f"module 'functrans' has no attribute {name!r}")
