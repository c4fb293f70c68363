"""The systems compared: one adapter class per AD library (plus the NumPy floor).

An adapter turns a workload ``loss(xp, *args)`` into a callable on its own array type:
``build(case)`` binds the namespace, applies the transform the case asks for (with the library's
own API: no adapter re-implements a transform the library lacks, that cell reads n/a) and wraps
the result so that a call returns only when the work is done (JAX dispatches asynchronously).
Each library is imported in ``load()``, so a missing peer is skipped with a note, not a crash.
"""

from __future__ import annotations

import numpy as np
import optree


class NotSupported(Exception):
    """The system has no such transform: the cell reads n/a with this reason."""


def first_leaf(tree):
    return optree.tree_leaves(tree)[0]


def last_array(result):
    """An hvp may return H·v alone, (f(x), H·v) or per-argument tuples: keep H·v."""
    while isinstance(result, (tuple, list)):
        result = result[-1]
    return result


class System:
    name = "?"
    notes: tuple = ()      # printed under the table, e.g. which mode a hessian uses
    compiles = False       # the first call compiles; excluded from timing, may take long

    def load(self):
        """Import the library; raise ImportError (or anything) to skip the system."""

    def version(self):
        return ""

    # -- arrays -----------------------------------------------------------------------------
    def asarray(self, tree):
        return optree.tree_map(np.array, tree)

    def to_numpy(self, tree):
        return optree.tree_map(np.asarray, tree)

    def ns(self, x):
        """The namespace a workload gets, from the (possibly traced) differentiated argument."""
        from array_api_compat import array_namespace
        return array_namespace(x)

    # -- transforms (each returns a callable over the case's inputs) --------------------------
    def grad(self, f):
        raise NotSupported(f"{self.name} has no grad")

    def jacfwd(self, f):
        raise NotSupported(f"{self.name} has no forward-mode jacobian")

    def jacrev(self, f):
        raise NotSupported(f"{self.name} has no reverse-mode jacobian")

    def hessian(self, f):
        raise NotSupported(f"{self.name} has no hessian")

    def hvp(self, f):
        """Return ``h(x, v, *rest) = H(x) v`` of ``f(x, *rest)``."""
        raise NotSupported(f"{self.name} has no hvp")

    def finish(self, fn):
        """Wrap the transformed function for timing (JAX: jit and/or block until ready)."""
        return fn

    def compile_ahead(self, fn, *args):
        """Compile without running (W8 measures memory of the run only)."""
        return fn

    # -- building a case ----------------------------------------------------------------------
    def bind(self, loss, *extra):
        return lambda *args: loss(self.ns(first_leaf(args[0])), *args, *extra)

    def build(self, case, forward=False):
        f = self.bind(case.loss)
        if forward:
            fn = f
        elif case.kind == "grad":
            fn = f
            for _ in range(case.order):
                fn = self.grad(fn)
        else:
            fn = getattr(self, case.kind)(f)
        return self.finish(fn)


class NumPyFloor(System):
    """The same workload on raw NumPy with no transform: the denominator of every ratio."""
    name = "numpy"

    def load(self):
        import numpy
        self._np = numpy

    def version(self):
        return self._np.__version__

    def ns(self, x):
        return self._np  # the real NumPy module, not a compat wrapper: the honest floor

    def build(self, case, forward=False):
        if not forward:
            raise NotSupported("the floor runs the forward only")
        return super().build(case, forward=True)


class NumPyManual(System):
    """Hand-written NumPy derivative where a workload ships one (W2's backprop, W5's H v)."""
    name = "numpy-manual"

    def version(self):
        return np.__version__

    def build(self, case, forward=False):
        if case.manual is None or forward:
            raise NotSupported("no hand-written gradient for this workload")
        return case.manual


class Functrans(System):
    name = "functrans"

    def load(self):
        import functrans
        import functrans.numpy as fnp
        self.ft = functrans
        if not hasattr(fnp, "roll"):
            self.notes = ("functrans: functrans.numpy has no roll yet; W5 uses concat of slices",)

    def version(self):
        return getattr(self.ft, "__version__", "dev")

    def _api(self, attr):
        fn = getattr(self.ft, attr, None)
        if fn is None:
            raise NotSupported(f"functrans.{attr} is missing")
        return fn

    def grad(self, f):
        return self._api("grad")(f)

    def jacfwd(self, f):
        return self._api("jacfwd")(f)

    def jacrev(self, f):
        return self._api("jacrev")(f)

    def hessian(self, f):
        return self._api("hessian")(f)

    def hvp(self, f):
        hvp = self._api("hvp")

        def h(x, v, *rest):
            return last_array(hvp(lambda y: f(y, *rest), (x,), (v,)))
        return h


class FunctransJit(Functrans):
    name = "functrans-jit"
    notes = ("functrans-jit: the whole transformed function under functrans.jit; the first "
             "call (staging) not timed",)
    compiles = True

    def finish(self, fn):
        return self._api("jit")(fn)

    def compile_ahead(self, fn, *args):
        fn(*args)  # stages and caches,
        fn(*args)  # and compiles: W8 then measures a compiled run
        return fn


class Autograd(System):
    name = "autograd"
    notes = ("autograd: hessian is reverse-over-reverse (jacobian of jacobian); no jacfwd",)

    def load(self):
        import autograd
        import autograd.numpy as anp
        self.ag, self.anp = autograd, anp

    def version(self):
        from importlib.metadata import version
        return version("autograd")

    def ns(self, x):
        return self.anp  # its boxes carry no __array_namespace__

    def grad(self, f):
        return self.ag.grad(f)

    def jacrev(self, f):
        return self.ag.jacobian(f)

    def hessian(self, f):
        return self.ag.hessian(f)

    def hvp(self, f):
        ag = self.ag

        def h(x, v, *rest):  # forward mode (make_jvp) over reverse, as the others
            return ag.make_jvp(ag.grad(f))(x, *rest)(v)[1]
        return h


class JaxEager(System):
    name = "jax"
    notes = ("jax: eager, op-by-op dispatch (no jit)",)

    def load(self):
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        self.jax, self.jnp = jax, jnp

    def version(self):
        return self.jax.__version__

    def asarray(self, tree):
        return optree.tree_map(self.jnp.asarray, tree)

    def grad(self, f):
        return self.jax.grad(f)

    def jacfwd(self, f):
        return self.jax.jacfwd(f)

    def jacrev(self, f):
        return self.jax.jacrev(f)

    def hessian(self, f):
        return self.jax.hessian(f)

    def hvp(self, f):
        jax = self.jax

        def h(x, v, *rest):
            return jax.jvp(jax.grad(lambda y: f(y, *rest)), (x,), (v,))[1]
        return h

    def finish(self, fn):
        block = self.jax.block_until_ready
        return lambda *args: block(fn(*args))


class JaxJit(JaxEager):
    name = "jax-jit"
    notes = ("jax-jit: the whole transformed function under jax.jit; compile time not timed",)
    compiles = True

    def finish(self, fn):
        return super().finish(self.jax.jit(fn))

    def compile_ahead(self, fn, *args):
        compiled = self.jax.jit(fn).lower(*args).compile()
        return super().finish(compiled)


class TorchFunc(System):
    name = "torch.func"
    notes = ("torch.func: CPU, workloads see array_api_compat.torch (the Array API view of "
             "torch); hessian is jacfwd(jacrev)",)

    def load(self):
        import torch
        import torch.func
        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # only allowed before the first parallel op; harmless if late
            pass
        self.torch = torch

    def version(self):
        return self.torch.__version__

    def asarray(self, tree):
        return optree.tree_map(lambda a: self.torch.from_numpy(np.array(a, dtype=np.float64)),
                               tree)

    def to_numpy(self, tree):
        return optree.tree_map(lambda t: t.detach().cpu().numpy(), tree)

    def grad(self, f):
        return self.torch.func.grad(f)

    def jacfwd(self, f):
        return self.torch.func.jacfwd(f)

    def jacrev(self, f):
        return self.torch.func.jacrev(f)

    def hessian(self, f):
        return self.torch.func.hessian(f)

    def hvp(self, f):
        tf = self.torch.func

        def h(x, v, *rest):
            return tf.jvp(tf.grad(lambda y: f(y, *rest)), (x,), (v,))[1]
        return h


ALL = {cls.name: cls for cls in
       (NumPyFloor, NumPyManual, Functrans, FunctransJit, Autograd, JaxEager, JaxJit,
        TorchFunc)}
ORDER = list(ALL)  # table column order


def load(name):
    """Return a loaded system, or (None, reason) if its library does not import."""
    system = ALL[name]()
    try:
        system.load()
    except Exception as exc:  # ImportError, or a half-written library raising anything
        return None, f"{type(exc).__name__}: {exc}"
    return system, None
