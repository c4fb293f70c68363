"""Count host reads (device synchronisations) made by functrans on torch tensors (or CuPy arrays).

    python -m benchmarks.host_reads                  # every case, torch CPU (counts as on CUDA)
    python -m benchmarks.host_reads --only softmax,binom.logpmf --lines 10
    python -m benchmarks.host_reads --as-device      # torch CPU, taking CUDA's paths
    python -m benchmarks.host_reads --device cuda    # torch CUDA tensors
    python -m benchmarks.host_reads --cupy           # CuPy arrays (needs CuPy and a GPU)

On a GPU every eager read of an array's value on the host (``bool(x)``, ``x.item()``,
``float(x)``, ``int(x)``, ``.tolist()``, ``.cpu()``, ``.numpy()``, ``np.asarray(x)``) waits for
the device's queue to drain, and ``.cpu()``/``.numpy()`` also copy. Such reads are counted by
wrapping those methods of ``torch.Tensor`` for the length of one call (the wrappers are removed
afterwards). A CPU run counts what a CUDA run does, except where torch's backend looks at the
values only on the CPU (where a look costs no synchronisation) to skip work: ``--as-device``
takes the device's paths there. Reads torch makes inside its own C++ code (boolean-mask indexing, ``nonzero``, the
``info`` check of ``torch.linalg.cholesky``) are not seen.

Each case is run under forward (the function), grad (of the sum), jacfwd, vmap (over a stack
of 4 inputs) and steady-state jit(grad) (the third call). The table gives reads per call; the
list after it names the functrans source lines that made them (innermost functrans frame, and
the first frame outside functrans/backends that led there).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import sys

N = 64
MODES = ("forward", "grad", "jacfwd", "vmap", "jit(grad)")

_PACKAGE_DIR = None  # functrans's folder, set on first use (import kept out of module scope)

# helpers that only read for their caller: the line shown is their caller's
READ_HELPERS = frozenset({"to_numpy", "_all_true", "_any_true", "_any_each", "_needed",
                          "_none_needs", "_concrete", "_in_range",
                          "__bool__", "__float__", "__int__", "__index__", "item", "tolist"})

# the methods through which a tensor's value reaches the host
TORCH_READS = ("__bool__", "item", "__float__", "__int__", "__index__", "tolist", "numpy",
               "cpu")
CUPY_READS = ("get", "__bool__", "item", "__float__", "__int__", "__index__", "tolist",
              "__array__")


class HostReadCounter:
    """Counts calls of the given methods of ``cls`` made while ``active`` is true, with the
    functrans source line responsible for each."""

    def __init__(self, cls, names):
        self.cls, self.names = cls, names
        # the array library's own Python code (torch's __array__ calls .numpy()) and the
        # standard library: passed through on the way to the caller
        self.library_dirs = tuple(
            os.path.dirname(os.path.abspath(m.__file__)) + os.sep
            for m in (sys.modules.get(cls.__module__.split(".")[0]), os, contextlib)
            if getattr(m, "__file__", None))
        self.count = 0
        self.sites = collections.Counter()
        self.active = False
        self._depth = 0  # (a read method calling another one is one read)
        # results of .cpu() / .get(): already on the host, so .numpy() of them is no read
        # (to_numpy's x.cpu().numpy() is one synchronisation and one copy); by id, the
        # objects kept alive for the call (tensors' == is elementwise: no set of them)
        self._on_host = {}

    def _site(self):
        frame = sys._getframe(2)
        inner = outer = None
        backends = os.path.join(_PACKAGE_DIR, "backends") + os.sep
        while frame is not None:
            fn = frame.f_code.co_filename
            if fn.startswith(_PACKAGE_DIR):
                if frame.f_code.co_name not in READ_HELPERS:
                    here = f"{os.path.relpath(fn, _PACKAGE_DIR)}:{frame.f_lineno}"
                    if inner is None:
                        inner = here
                    if not fn.startswith(backends):
                        outer = here
                        break
            elif inner is None and not fn.startswith(self.library_dirs):
                break  # (the user's own code read the value: bool(x) in an `if`)
            frame = frame.f_back
        if inner is None:
            return "(outside functrans)"
        return inner if outer in (None, inner) else f"{inner} <- {outer}"

    def _wrap(self, name, original):
        def read(obj, *args, **kwargs):
            counted = self.active and self._depth == 0
            if counted and id(obj) not in self._on_host:
                self.count += 1
                self.sites[self._site()] += 1
            self._depth += 1
            try:
                out = original(obj, *args, **kwargs)
            finally:
                self._depth -= 1
            if counted and name in ("cpu", "get"):
                self._on_host[id(out)] = out
            return out
        read.__name__ = name
        return read

    @contextlib.contextmanager
    def installed(self):
        saved = {}  # (the methods wrapped so far: their own entries, None if inherited)
        try:
            for n in self.names:
                own = self.cls.__dict__.get(n)
                try:
                    setattr(self.cls, n, self._wrap(n, getattr(self.cls, n)))
                    saved[n] = own
                except (TypeError, AttributeError) as e:  # (an extension type: no patching)
                    raise RuntimeError(
                        f"cannot count host reads of {self.cls.__module__}."
                        f"{self.cls.__qualname__}: its method {n} cannot be wrapped ({e}); "
                        "run with torch tensors instead") from e
            yield self
        finally:
            for n, own in saved.items():
                if own is None:
                    with contextlib.suppress(AttributeError, TypeError):
                        delattr(self.cls, n)
                else:
                    setattr(self.cls, n, own)

    def measure(self, thunk):
        """Run ``thunk()`` and return (reads, sites) of that call alone."""
        self.count, self.sites = 0, collections.Counter()
        self.active = True
        try:
            thunk()
        finally:
            self.active = False
            self._on_host.clear()
        return self.count, self.sites


def cases():
    """(name, function of one vector, domain low, domain high): representative public functions."""
    import functrans.lax as lax
    import functrans.nn as nn
    import functrans.numpy as fnp
    import functrans.scipy.special as sp
    import functrans.scipy.stats as st

    def loop(x):
        return lax.fori_loop(0, 3, lambda i, c: fnp.sin(c) + x, x)

    def scan(x):
        return lax.scan(lambda c, xi: (c * 0.5 + xi, c), 0.0 * x[0], x)[1]

    def cond(x):
        return lax.cond(fnp.sum(x) > 0.0, fnp.sin, fnp.cos, x)

    def while_(x):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, fnp.tanh(c[1])),
                              (0, x))[1]

    def eye(x):  # (made beside x: a NumPy constant would be read across, see "+ eye")
        return 8.0 * fnp.eye(8, like=x)

    def det(x):
        return fnp.linalg.det(fnp.reshape(x, (8, 8)) + eye(x))

    def solve(x):
        a = fnp.reshape(x, (8, 8)) + eye(x)
        return fnp.linalg.solve(a, x[:8])

    def cholesky(x):
        a = fnp.reshape(x, (8, 8))
        return fnp.linalg.cholesky(a @ a.T + eye(x))

    def plus_numpy_eye(x):  # a NumPy constant on the right of a tensor
        return fnp.reshape(x, (8, 8)) + fnp.eye(8)

    def eigh(x):
        a = fnp.reshape(x, (8, 8))
        return fnp.linalg.eigh(a + a.T)[0]

    def python_bool(x):  # user-visible Python control flow: one read per call, eagerly
        return fnp.sin(x) if bool(fnp.sum(x) > 0.0) else fnp.cos(x)

    return [
        ("sin", fnp.sin, -2.0, 2.0),
        ("exp*log1p", lambda x: fnp.exp(x) * fnp.log1p(x), 0.1, 2.0),
        ("power", lambda x: x ** 2.5, 0.1, 2.0),
        ("remainder", lambda x: fnp.remainder(x, 0.7), 0.1, 2.0),
        ("maximum", lambda x: fnp.maximum(x, 0.5), 0.1, 2.0),
        ("sum", fnp.sum, -2.0, 2.0),
        ("max", fnp.max, -2.0, 2.0),
        ("prod", fnp.prod, 0.5, 1.5),
        ("cumsum", fnp.cumsum, -2.0, 2.0),
        ("vector_norm", fnp.linalg.vector_norm, -2.0, 2.0),
        ("logsumexp", sp.logsumexp, -2.0, 2.0),
        ("relu", nn.relu, -2.0, 2.0),
        ("gelu", nn.gelu, -2.0, 2.0),
        ("softplus", nn.softplus, -2.0, 2.0),
        ("softmax", nn.softmax, -2.0, 2.0),
        ("log_softmax", nn.log_softmax, -2.0, 2.0),
        ("gammaln", sp.gammaln, 0.1, 5.0),
        ("digamma", sp.digamma, 0.1, 5.0),
        ("erf", sp.erf, -2.0, 2.0),
        ("betaln", lambda x: sp.betaln(x, 2.0), 0.1, 5.0),
        ("xlogy", lambda x: sp.xlogy(x, x), 0.1, 2.0),
        ("norm.logpdf", st.norm.logpdf, -2.0, 2.0),
        ("norm.cdf", st.norm.cdf, -2.0, 2.0),
        ("gamma.logpdf", lambda x: st.gamma.logpdf(x, 2.0), 0.1, 5.0),
        ("binom.logpmf", lambda x: st.binom.logpmf(3.0, 10.0, x), 0.05, 0.95),
        ("t.cdf", lambda x: st.t.cdf(x, 3.0), -2.0, 2.0),
        ("beta.logcdf", lambda x: st.beta.logcdf(x, 2.0, 3.0), 0.05, 0.95),
        ("det", det, -0.5, 0.5),
        ("solve", solve, -0.5, 0.5),
        ("cholesky", cholesky, -0.5, 0.5),
        ("eigh", eigh, -0.5, 0.5),
        ("+ eye", plus_numpy_eye, -0.5, 0.5),
        ("fori_loop", loop, -1.0, 1.0),
        ("scan", scan, -1.0, 1.0),
        ("cond", cond, -1.0, 1.0),
        ("while_loop", while_, -1.0, 1.0),
        ("sort", fnp.sort, -2.0, 2.0),
        ("take", lambda x: fnp.take(x, fnp.argsort(x)), -2.0, 2.0),
        ("x[::2]", lambda x: x[::2] * x[1::2], -2.0, 2.0),
        ("where", lambda x: fnp.where(x > 0.0, x, 2.0 * x), -2.0, 2.0),
        ("python bool", python_bool, -2.0, 2.0),
        *device_path_cases(),
    ]


def device_path_cases():
    """Cases taking the read-free (``where``-style) paths added in sessions 41-43, none of
    which had run on a GPU: the special functions' tails and slopes, the stats "fix"
    primitives at large degrees of freedom, the linear algebra derivatives' masks, jet's
    rules and the batched cond's tangent mask."""
    import functrans as ft
    import functrans.lax as lax
    import functrans.numpy as fnp
    import functrans.scipy.special as sp
    import functrans.scipy.stats as st
    from functrans.experimental import checkify
    from functrans.experimental.jet import jet

    def jet1(g):
        # (the first Taylor coefficient of g along ones: jet's rules, eager and staged)
        return lambda x: jet(g, (x,), ((fnp.ones_like(x),),))[1][0]

    def square(x):
        return fnp.reshape(x, (8, 8))

    def batched_cond(x):  # (a cond of a batched predicate: both branches, then a select)
        return ft.vmap(lambda v: lax.cond(v > 0.0, fnp.log1p, lambda u: 2.0 * u, v))(x)

    def checkified_cond(x):
        return checkify.checkify(batched_cond)(x)[1]

    def searchsorted_times(x):
        return fnp.astype(fnp.searchsorted(x, 0.25), x.dtype) * x

    def loop(x):
        return lax.fori_loop(0, 2, lambda i, c: fnp.abs(c) * x, x)

    return [
        ("erfcx", sp.erfcx, 0.1, 40.0),                      # elem41/43: band table, far
        ("erfc tail", sp.erfc, 1.0, 27.0),                   # elem42: erfc's tail
        ("ndtr tail", sp.ndtr, -38.0, -1.0),                 # elem42: ndtr's tail
        ("log_ndtr", sp.log_ndtr, -30.0, 10.0),
        ("dawsn", sp.dawsn, -10.0, 10.0),                    # elem42/43: dawsn_deriv, take
        ("ndtri", sp.ndtri, 1e-12, 0.99),                    # elem42: ndtri_slope
        ("erfinv", sp.erfinv, -0.999999, 0.999999),          # elem42: erfinv_slope
        ("erf far", sp.erf, 3.0, 9.0),                       # elem43: exp_sq's exact square
        ("norm.pdf far", st.norm.pdf, -40.0, 40.0),
        ("t.cdf df 1e12", lambda x: st.t.cdf(x, 1e12), -2.0, 2.0),     # stats41: t_fix
        ("t.ppf df 1e12", lambda x: st.t.ppf(x, 1e12), 0.05, 0.95),
        ("beta.ppf", lambda x: st.beta.ppf(x, 2.0, 3.0), 0.3, 0.999),  # stats41: beta_ppf_fix
        ("f.cdf 1e11", lambda x: st.f.cdf(x, 1e11, 1e11), 0.99, 1.01),  # stats42/43
        ("f.cdf dfd 1e13", lambda x: st.f.cdf(x, 3.0, 1e13), 0.1, 3.0),
        ("f.logpdf 100", lambda x: st.f.logpdf(x, 100.0, 200.0), 0.5, 2.0),  # stats43
        ("svd vectors", lambda x: fnp.linalg.svd(square(x))[0], -0.5, 0.5),  # linalg43
        ("eig values", lambda x: fnp.real(fnp.linalg.eig(square(x))[0]), -0.5, 0.5),
        ("jet hypot", jet1(lambda x: fnp.hypot(x, 2.0 * x)), -2.0, 2.0),  # jet43
        ("jet searchsorted", jet1(searchsorted_times), -2.0, 2.0),
        ("jet fori_loop", jet1(loop), -2.0, 2.0),
        ("jet top_k", jet1(lambda x: lax.top_k(x, 3)[0]), -2.0, 2.0),
        ("batched cond", batched_cond, -1.0, 1.0),         # sweepa43: the tangent mask
        ("checkify cond", checkified_cond, -1.0, 1.0),     # sweepa43: the row substitution
        # (the torch backend's repairs of torch's functions: read-free on a device)
        ("sinh", fnp.sinh, -2.0, 2.0),
        ("i0", sp.i0, 0.1, 5.0),
        ("k1e", sp.k1e, 0.1, 5.0),
        ("zeta", lambda x: sp.zeta(x + 2.0, 1.5), 0.1, 5.0),
        ("polygamma", lambda x: sp.polygamma(1, x), -5.0, 5.0),
    ]


def _runners(fn, x, xs):
    import functrans as ft
    import functrans.numpy as fnp

    def total(v):
        return fnp.sum(fn(v))

    steady = ft.jit(ft.grad(total))
    return {
        "forward": lambda: fn(x),
        "grad": lambda: ft.grad(total)(x),
        "jacfwd": lambda: ft.jacfwd(fn)(x),
        "vmap": lambda: ft.vmap(fn)(xs),
        "jit(grad)": lambda: steady(x),
        "_warm": lambda: (steady(x), steady(x)),
    }


def _inputs(lib, device, lo, hi):
    import numpy as np
    grid = lo + (hi - lo) * (np.arange(N) + 0.5) / N
    rng = np.random.default_rng(0)
    stack = np.stack([rng.permutation(grid) for _ in range(4)])
    if lib == "cupy":
        import cupy
        return cupy.asarray(grid), cupy.asarray(stack)
    import torch
    return (torch.as_tensor(grid, device=device), torch.as_tensor(stack, device=device))


def counter_for(lib):
    global _PACKAGE_DIR
    import functrans
    _PACKAGE_DIR = os.path.dirname(os.path.abspath(functrans.__file__)) + os.sep
    if lib == "cupy":  # (untested here: no GPU; cupy.ndarray must accept new attributes)
        import cupy
        return HostReadCounter(cupy.ndarray, CUPY_READS)
    import torch
    return HostReadCounter(torch.Tensor, TORCH_READS)


@contextlib.contextmanager
def _acting_as_device(on):
    """torch's backend taking CPU tensors for device ones (no look at values that would be a
    synchronisation there), so that a CPU run counts what a CUDA run reads."""
    if not on:
        yield
        return
    from functrans.backends import torch_backend
    saved = torch_backend._on_host
    torch_backend._on_host = lambda x: False
    try:
        yield
    finally:
        torch_backend._on_host = saved


def run(names=None, modes=MODES, lib="torch", device="cpu", as_device=False, on_row=None):
    """Reads per call: {case: {mode: count or error text}}, and the sites {site: {case, ...}}
    with their total counts. ``on_row(name, row)`` is called as each case is done."""
    table, sites, users = {}, collections.Counter(), collections.defaultdict(set)
    counter = counter_for(lib)
    chosen = [c for c in cases() if names is None or c[0] in names]
    if names is not None and len(chosen) != len(set(names)):
        unknown = sorted(set(names) - {c[0] for c in chosen})
        raise SystemExit(f"unknown case(s) {unknown}; choose from "
                         + ", ".join(c[0] for c in cases()))
    with counter.installed(), _acting_as_device(as_device):
        for name, fn, lo, hi in chosen:
            x, xs = _inputs(lib, device, lo, hi)
            runs = _runners(fn, x, xs)
            row = table[name] = {}
            for mode in modes:
                try:
                    if mode == "jit(grad)":
                        runs["_warm"]()
                    count, where = counter.measure(runs[mode])
                except Exception as e:  # (a case a transform refuses: shown, not fatal)
                    row[mode] = f"{type(e).__name__}"
                    continue
                row[mode] = count
                for site, k in where.items():
                    sites[site] += k
                    users[site].add(name)
            if on_row is not None:
                on_row(name, row)
    return table, sites, users


def format_table(table, modes=MODES, width=None):
    width = width or (max(len(n) for n in table) if table else 4)
    lines = [f"{'function':<{width}}  " + "  ".join(f"{m:>9}" for m in modes)]
    for name, row in table.items():
        lines.append(format_row(name, row, modes, width))
    return "\n".join(lines)


def format_row(name, row, modes=MODES, width=16):
    return f"{name:<{width}}  " + "  ".join(f"{row.get(m, ''):>9}" for m in modes)


def format_sites(sites, users, top):
    lines = [f"host reads by functrans source line (top {top}; functrans/...):"]
    for site, k in sites.most_common(top):
        lines.append(f"{k:6d}  {site}   [{', '.join(sorted(users[site]))}]")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.host_reads", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help="comma-separated case names (default: all)")
    p.add_argument("--lines", type=int, default=12, help="source lines to list (default 12)")
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument("--cupy", action="store_true", help="CuPy arrays instead of torch tensors")
    p.add_argument("--as-device", action="store_true",
                   help="torch CPU tensors taken as device ones: the paths a CUDA run takes "
                   "(torch skips some work after a look at the values only on the CPU)")
    args = p.parse_args(argv)
    names = args.only.split(",") if args.only else None
    lib = "cupy" if args.cupy else "torch"
    where = "cuda" if args.cupy else args.device + (" as a device" if args.as_device else "")
    print(f"host reads per call ({lib}, {where}, float64 vector of {N}; vmap over 4 of them):")
    # (each row as its case is done: a run cut by a time limit still shows the rows it ran)
    width = max(len(c[0]) for c in cases() if names is None or c[0] in names)
    print(format_table({}, width=width), flush=True)
    table, sites, users = run(names, lib=lib, device=args.device,
                              as_device=args.as_device and not args.cupy,
                              on_row=lambda n, r: print(format_row(n, r, width=width),
                                                        flush=True))
    print()
    print(format_sites(sites, users, args.lines))


if __name__ == "__main__":
    main()
