"""Numerical derivative checks: :func:`check_grads`, :func:`check_jvp`, :func:`check_vjp`.

- **Forward mode** (``"fwd"``): for every floating-point input leaf in turn, a random tangent
  ``v`` on that leaf alone; ``jvp(f, x, v)`` must match the central difference
  ``(f(x + eps v) - f(x - eps v)) / 2 eps``, output leaf by output leaf.
- **Reverse mode** (``"rev"``): for every floating-point output leaf, a random cotangent ``u``
  on that leaf alone; the dot-product identity ``<u, J v> = <J^T u, v>`` must hold with
  ``J v`` from ``jvp`` and ``J^T u`` from ``vjp`` (this checks the transpose rules), and also
  with ``J v`` from finite differences (so a VJP is checked against the function itself even
  when the JVP is wrong in the same way, as with a wrong ``custom_vjp`` rule).
- **Higher orders**: the JVP and VJP are themselves functions — ``(primals, tangents) ->
  jvp(f, primals, tangents)`` and ``(*primals, u) -> vjp(f, *primals)[1](u)`` — and are
  checked the same way to ``order - 1``, as autograd's and JAX's ``check_grads`` do, except
  that (as in JAX's) one random direction moves all their inputs at once and one random
  cotangent covers all their outputs: every partial derivative is still in the comparison
  (a wrong one changes the result in almost every direction), for a pass per derived
  function instead of one per leaf. Inputs of different precisions are still taken one at a
  time (each has its own step).

Random directions are drawn with NumPy's generator (in float32 for float32 and bfloat16
inputs, float16 for float16 ones) and made
into arrays by the input's own backend, on its device; the function is evaluated on that
backend's arrays. Integer and boolean leaves are held fixed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import api
from .. import dtypes as _dt
from ..tree import tree_leaves, tree_map
from . import _util as U

__all__ = ["check_grads", "check_jvp", "check_vjp", "GradCheckError"]


class GradCheckError(AssertionError):
    """A derivative disagreed with its reference. The message says which check (``'fwd'`` or
    ``'rev'``), at which order and on which derived function, with respect to which argument
    (index and pytree path) and output, in which direction, and by how much."""


def check_grads(f, args, order=2, modes=("fwd", "rev"), eps=None, atol=None, rtol=None, *,
                seed=0):
    """Check the derivatives of ``f`` at ``args`` numerically, up to ``order``.

    Args:
        f: a function of ``len(args)`` positional arguments (pytrees of arrays of any
            backend) returning a pytree of arrays.
        args: tuple of the arguments.
        order: highest derivative order to check (1: JVP/VJP of ``f``; 2: also the JVP/VJP of
            those; ...).
        modes: any of ``"fwd"`` (JVP vs finite differences) and ``"rev"`` (VJP by the
            dot-product identity, against the JVP and against finite differences).
        eps: finite-difference step (default per dtype: 1e-6 for float64, 1e-3 for float32,
            0.1 for float16, 0.25 for bfloat16).
        atol, rtol: tolerances (default per dtype: 1e-6 for float64, 1e-2 for float32, 5e-2
            for float16, 0.2 for bfloat16: in half precision a coarse check, which refuses
            points where the rounding of ``f`` swamps its change; check in float64 to test a
            rule, in half precision to test that the dtype goes through). A
            JVP passes when ``|a - b| <= atol + rtol * max(|a|, |b|)`` element by element,
            plus the rounding error of the finite difference and its truncation error
            (estimated with a second step ``2 eps``, at most ``rtol`` times the output's
            largest element); the dot products of the reverse check pass when
            ``|a - b| <= atol + rtol * sum |terms|`` plus the rounding error.
        seed: seed of the random directions (the check is deterministic).

    Complex inputs and outputs are checked as pairs of real ones (real and imaginary parts:
    the real-linear map a complex derivative is, holomorphic or not). Output entries that
    are not finite at ``args`` (inf, nan) are left out of the comparisons; the others are
    compared as usual.

    Raises:
        GradCheckError: (an AssertionError) describing the first disagreement.

    Example:
        >>> import functrans.numpy as fnp
        >>> from functrans.testing import check_grads
        >>> check_grads(lambda x, y: fnp.sin(x) * y, (0.5, 2.0), order=2)
    """
    if isinstance(modes, str):
        modes = (modes,)
    modes = tuple(modes)
    bad = [m for m in modes if m not in ("fwd", "rev")]
    if bad or not modes:
        raise ValueError(f"check_grads: modes must be a non-empty subset of ('fwd', 'rev'); "
                         f"got {modes!r}.")
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"check_grads: order must be a positive integer; got {order!r}.")
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"check_grads(f, args): args must be a tuple of arguments; got "
                        f"{type(args).__name__}. For one argument write (x,).")
    opts = {"eps": eps, "atol": atol, "rtol": rtol}
    rng = np.random.default_rng(seed)
    name = U.fun_name(f)
    f, args = _complex_as_pairs(f, tuple(args))
    _Level(f, args, name, _top_arg, _top_out, 1, order, modes, opts, rng, seed).run()


class ComplexParts(NamedTuple):
    """A complex leaf as two real ones: messages name them by the leaf's path followed by
    ``[0]`` (real part) or ``[1]`` (imaginary part)."""

    real: object
    imag: object


def _is_complex_leaf(x):
    if type(x) is complex:
        return True
    return hasattr(x, "dtype") and not isinstance(x, ComplexParts) \
        and U.dtype_of(x).kind == "c"


def _complex_as_pairs(f, args):
    """``f`` and ``args`` with every complex input and output leaf taken as the pair of its
    real and imaginary parts: the real function of real arguments whose derivatives are
    ``f``'s (a complex derivative is the real-linear map on the pairs, which covers
    holomorphic and non-holomorphic functions alike, and its transpose is the VJP functrans
    computes through the complex operations). ``f`` unchanged when nothing is complex."""
    import functrans.lax as lax
    import functrans.numpy as fnp

    def split(x):
        if _is_complex_leaf(x):
            x = U.as_concrete(x) if type(x) is complex else x
            return ComplexParts(fnp.real(x), fnp.imag(x))
        return x

    def join(node):
        return lax.complex(node.real, node.imag) if isinstance(node, ComplexParts) else node

    def is_parts(node):
        return isinstance(node, ComplexParts)
    has_complex_input = any(_is_complex_leaf(x) for x in tree_leaves(args))
    out = f(*args)
    if not has_complex_input and not any(_is_complex_leaf(y) for y in tree_leaves(out)):
        return f, args

    def real_f(*pairs):
        return tree_map(split, f(*tree_map(join, pairs, is_leaf=is_parts)))
    real_f.__name__ = U.fun_name(f)
    return real_f, tree_map(split, args)


def check_jvp(f, args, eps=None, atol=None, rtol=None, *, seed=0):
    """Check ``jvp(f)`` against central finite differences (order 1, forward mode only).

    Example:
        >>> import functrans.numpy as fnp
        >>> from functrans.testing import check_jvp
        >>> check_jvp(fnp.exp, (1.0,))
    """
    check_grads(f, args, order=1, modes=("fwd",), eps=eps, atol=atol, rtol=rtol, seed=seed)


def check_vjp(f, args, eps=None, atol=None, rtol=None, *, seed=0):
    """Check ``vjp(f)`` by the dot-product identity ``<u, J v> = <J^T u, v>``, with ``J v``
    from ``jvp`` and from finite differences (order 1, reverse mode only).

    Example:
        >>> import functrans.numpy as fnp
        >>> from functrans.testing import check_vjp
        >>> check_vjp(fnp.tanh, (0.3,))
    """
    check_grads(f, args, order=1, modes=("rev",), eps=eps, atol=atol, rtol=rtol, seed=seed)

# -- naming arguments and outputs of derived functions --------------------------------------------


def _top_arg(path):
    i, rest = path[0], path[1:]
    return f"argument {i}" + (f" at path {U.format_path(rest)}" if rest else "")


def _top_out(path):
    return "output" + (f" at path {U.format_path(path)}" if path else "")


def _jvp_names(arg_desc, out_desc):
    def arg(path):
        return ("primal " if path[0] == 0 else "tangent for ") + arg_desc(path[1:])

    def out(path):
        return ("primal " if path[0] == 0 else "tangent ") + out_desc(path[1:])
    return arg, out


def _vjp_names(arg_desc, out_desc, nargs):
    def arg(path):
        if path[0] < nargs:
            return arg_desc(path)
        return "cotangent for " + out_desc(path[1:])

    def out(path):
        return "cotangent of " + arg_desc(path)
    return arg, out

# -- one function under check --------------------------------------------------------------------


class _Level:
    def __init__(self, f, args, name, arg_desc, out_desc, order, max_order, modes, opts, rng,
                 seed):
        self.f, self.args, self.name = f, args, name
        self.arg_desc, self.out_desc = arg_desc, out_desc
        self.order, self.max_order, self.modes = order, max_order, modes
        self.opts, self.rng, self.seed = opts, rng, seed

    # -- evaluation ------------------------------------------------------------------------
    def _call(self, leaves):
        out = U.call(self.f, self.in_tree, leaves)
        paths, ys, tree = U.flatten_with_paths(out)
        if tree != self.out_tree:
            raise self._fail_plain(f"{self.name} returned outputs of structure {tree} at a "
                                   f"perturbed point, but {self.out_tree} at the base point.")
        return ys

    def run(self):
        self.in_paths, self.xs, self.in_tree = U.flatten_with_paths(self.args)
        for p, x in zip(self.in_paths, self.xs):
            U.check_supported(x, self.arg_desc(p))
        y = U.call(self.f, self.in_tree, self.xs)
        self.out_paths, self.ys, self.out_tree = U.flatten_with_paths(y)
        for p, o in zip(self.out_paths, self.ys):
            U.check_supported(o, self.out_desc(p))
        self.fin = [i for i, x in enumerate(self.xs) if U.is_real_float(x)]
        self.fout = [o for o, y in enumerate(self.ys) if U.is_real_float(y)]
        self.out_dtypes = [U.dtype_of(self.ys[o]) for o in self.fout]
        self.ys_h = [U.host(y) if o in self.fout else None for o, y in enumerate(self.ys)]
        # Entries not finite at the base point (a max over padding only, log(0)...) have no
        # derivative to compare there (inf - inf in the differences): they are left out.
        self.kept = {o: None if np.isfinite(self.ys_h[o]).all() else np.isfinite(self.ys_h[o])
                     for o in self.fout}
        if self.order == 1 and not (self.fin and self.fout):
            which = "argument" if not self.fin else "output"
            raise TypeError(
                f"check_grads: {self.name} has no real floating-point {which} leaf, so there "
                f"is no derivative to check (integer and boolean leaves are held fixed; pass "
                f"1.0, not 1, or cast with astype).")
        self._points, self._tols = {}, {}
        self.dirs_h = {}
        self.dirs = {i: self._direction(i) for i in self.fin}
        # The directions the checks take: each floating leaf in turn (order 1, where the
        # message then names the argument), or all of them at once (``_ALL``: derived
        # functions, whose leaves are the primals with their tangents or cotangents), when
        # they share one step and tolerance.
        self.keys = list(self.fin)
        if (self.order > 1 and len(self.fin) > 1
                and len({self._tol(i) for i in self.fin}) == 1):
            self.keys = [_ALL]
        self._jvps, self._fds = {}, {}
        if "fwd" in self.modes:
            self.check_fwd()
        if "rev" in self.modes:
            self.check_rev()
        if self.order < self.max_order:
            if "fwd" in self.modes:
                self.recurse_fwd()
            if "rev" in self.modes:
                self.recurse_rev()

    def _direction(self, i):
        """A standard normal direction for leaf i, replaced by the displacement that the
        finite-difference points ``x +- eps v`` really have once rounded to x's dtype (for
        large ``|x|`` it differs from ``2 eps v``), so that the JVP is taken along the
        direction the finite difference actually measures."""
        # Computed on the host in x's dtype (the same IEEE operations as on x's backend),
        # then made into arrays of x's backend on x's device.
        x, v0 = self.xs[i], U.random_host(self.rng, self.xs[i])
        eps = self._tol(i)[0]
        xh = U.host(x)
        plus, minus = np.asarray(xh + eps * v0), np.asarray(xh - eps * v0)
        points = (U.like(x, plus), U.like(x, minus))
        if U.dtype_of(x) is _dt.bfloat16:  # (NumPy has none: rounded on x's backend)
            plus, minus = U.host(points[0]), U.host(points[1])
        v_h = self.dirs_h[i] = np.asarray((plus - minus) / (2 * eps))
        self._points[i] = points
        v_eff = U.like(x, v_h)
        if U.max_abs(v_h - v0) > 0.5 * U.max_abs(v0):
            raise ValueError(
                f"check_grads: order {self.order}, function {self.name}: the "
                f"finite-difference step eps={eps:g} is lost in the rounding of "
                f"{self.arg_desc(self.in_paths[i])} ({U.describe_shape(x)}, max |x| = "
                f"{U.max_abs(x):.3e}): x + eps v is x. Pass a larger eps (or a wider dtype).")
        return v_eff

    def _members(self, i):
        """The input leaves that direction ``i`` moves (a leaf index, or ``_ALL``)."""
        return self.fin if i is _ALL else (i,)

    def _tol(self, i, o=None):
        """(eps, atol, rtol, dtype name) for input leaf i (and output leaf o)."""
        if i is _ALL:  # every leaf has the same (checked when the direction was chosen)
            i = self.fin[0]
        key = (i, o)
        if key not in self._tols:
            self._tols[key] = self._tol_uncached(i, o)
        return self._tols[key]

    def _tol_uncached(self, i, o):
        outs = [U.dtype_of(self.ys[o])] if o is not None else self.out_dtypes
        name = U.least_precise(U.dtype_of(self.xs[i]), *outs)
        eps, atol, rtol = U.fd_tolerances(name, **self.opts)
        if o is None:  # the step for leaf i must suit every output
            return eps, atol, rtol, name
        eps = self._tol(i)[0]
        return eps, atol, rtol, name

    def jvp_along(self, i):
        """Tangent outputs (flat NumPy copies, None for zero) of the JVP along direction i,
        and the primal outputs the JVP returned (NumPy copies)."""
        if i not in self._jvps:
            moved = self._members(i)
            # (integer leaves, not differentiated, take zero tangents as well)
            ts = [self.dirs[k] if k in moved else U.zeros_like(x)
                  for k, x in enumerate(self.xs)]
            primals = U.unflatten(self.in_tree, self.xs)
            tangents = U.unflatten(self.in_tree, ts)
            p_out, t_out = api.jvp(self.f, tuple(primals), tuple(tangents))
            p_leaves = [U.host(U.as_concrete(p)) for p in self.out_tree.flatten_up_to(p_out)]
            t_leaves = [None if t is None else U.host(U.as_concrete(t))
                        for t in self.out_tree.flatten_up_to(t_out)]
            self._jvps[i] = (t_leaves, p_leaves)
        return self._jvps[i]

    def fd_along(self, i, k=1):
        """Central differences along direction i with step ``k * eps``: (flat differences as
        NumPy arrays, eps, max |f| seen)."""
        if (i, k) not in self._fds:
            eps = self._tol(i)[0]
            plus = list(self.xs)
            minus = list(self.xs)
            for j in self._members(i):
                if k == 1:  # the points drawn with the direction: (plus - minus) / 2 eps
                    plus[j], minus[j] = self._points[j]
                else:
                    x, xh, v = self.xs[j], U.host(self.xs[j]), self.dirs_h[j]
                    plus[j] = U.like(x, np.asarray(xh + (k * eps) * v))
                    minus[j] = U.like(x, np.asarray(xh - (k * eps) * v))
            yp, ym = self._call(plus), self._call(minus)
            fds, mags = [], []
            for o, (a, b) in enumerate(zip(yp, ym)):
                if o in self.fout:
                    a, b = U.host(a), U.host(b)  # the same IEEE arithmetic, on the host
                    if self.kept[o] is not None:
                        a, b = self._finite_part(o, a), self._finite_part(o, b)
                    fds.append((a - b) / (2 * k * eps))
                    mags.append(max(U.max_abs(a), U.max_abs(b)))
                else:
                    fds.append(None)
                    mags.append(0.0)
            self._fds[i, k] = (fds, eps, mags)
        return self._fds[i, k]

    # -- forward mode ----------------------------------------------------------------------
    def check_fwd(self):
        for i in self.keys:
            t_out, p_out = self.jvp_along(i)
            self._check_primal(p_out, "jvp")
            fds, eps, mags = self.fd_along(i)
            for o in self.fout:
                _, atol, rtol, dname = self._tol(i, o)
                jv = t_out[o] if t_out[o] is not None else np.zeros_like(self.ys_h[o])
                fd = fds[o]
                if self.kept[o] is not None:
                    jv, fd = self._finite_part(o, jv), self._finite_part(o, fd)
                noise = 4 * U.ulp(dname) * mags[o] / eps
                # max |J v|, max |fd| and the elementwise excess over the allowance
                m_jv, m_fd, over = U.excess_and_sizes(jv, fd, atol, rtol, noise)
                size = max(m_jv, m_fd)
                if size > atol and noise >= 0.5 * size:
                    # The rounding of f itself swamps its change over the step: any J v of
                    # about this size would pass, so the check would test nothing.
                    raise ValueError(
                        f"check_grads: order {self.order}, function {self.name}, "
                        f"{self._key_desc(i)} -> output {o}: the rounding error "
                        f"of the finite differences ({noise:.3e}, from |f| up to "
                        f"{mags[o]:.3e} at step eps={eps:g}) is as large as the derivative "
                        f"({size:.3e}), so no error in it could be seen. Subtract large "
                        f"constants from the output, or pass a larger eps.")
                # elementwise (over, above): an error in a small element is not hidden by
                # a large one
                trunc = None
                if not over <= 0:
                    # the finite difference's own error, estimated from a second step 2 eps
                    # (it does not depend on the JVP under check), allowed up to the
                    # tolerance of the largest element
                    trunc = np.abs(self._finite_part(o, self.fd_along(i, 2)[0][o]) - fd)
                    cap = rtol * size
                    over = U.excess(jv, fd, atol, rtol, noise, np.minimum(trunc, cap))
                if not over <= 0:
                    err, rel = U.errors(jv, fd)
                    raise self._fail(
                        "fwd", "the JVP disagrees with central finite differences", i, [o],
                        [f"tangent v: standard normal on {self._key_desc(i)}"
                         f"{' only, other inputs fixed' if i is not _ALL else ''}; "
                         f"finite-difference step eps={eps:g}",
                         f"v = {self._key_show(i)}",
                         f"max abs error {err:.3e}, max rel error {rel:.3e}; allowed "
                         f"elementwise: atol {atol:g} + rtol {rtol:g} * |J v| + rounding "
                         f"{noise:.3e} + truncation (estimated from a step 2 eps, at most "
                         f"{cap:.3e}); exceeded by up to {over:.3e}",
                         f"J v by jvp:                {U.show(jv)}",
                         f"J v by finite differences: {U.show(fd)}"]
                        + ([f"the finite differences with steps eps and 2 eps differ by up "
                            f"to {U.max_abs(trunc):.3e}: if the function varies fast on the "
                            f"scale of eps (or x +- eps v leaves its domain), pass a smaller "
                            f"eps"] if not U.max_abs(trunc) <= cap else []))

    def _check_primal(self, p_out, how):
        for o in self.fout:
            a, b = p_out[o], self.ys_h[o]
            kept = self.kept[o]
            if kept is not None:  # the same non-finite values, then the finite ones compared
                same = np.array_equal(np.asarray(a)[~kept], b[~kept], equal_nan=True)
                a, b = self._finite_part(o, np.asarray(a)), self._finite_part(o, b)
                if not same:
                    a = np.where(kept, a, np.asarray(np.inf, a.dtype))
            err, rel = U.errors(a, b)
            atol, rtol = U.ad_tolerances(U.least_precise(U.dtype_of(b)))
            if not U.within(err, atol, rtol, max(U.max_abs(a), U.max_abs(b))):
                raise self._fail_plain(
                    f"the primal output of {how}({self.name}) differs from {self.name}(*args) "
                    f"at {self.out_desc(self.out_paths[o])}: max abs error {err:.3e}\n"
                    f"  {how}: {U.show(a)}\n  direct: {U.show(b)}")

    # -- reverse mode ----------------------------------------------------------------------
    def check_rev(self):
        if not self.fout or not self.fin:
            return
        y, pull = api.vjp(self.f, *U.unflatten(self.in_tree, self.xs))
        self._check_primal([U.host(U.as_concrete(p)) for p in self.out_tree.flatten_up_to(y)],
                           "vjp")
        # a cotangent on each floating output in turn, or on all of them at once when the
        # directions move all inputs at once
        groups = [self.fout] if self.keys == [_ALL] else [[o] for o in self.fout]
        for outs in groups:
            us = {o: U.like(self.ys[o], self._finite_part(o, U.random_host(self.rng,
                                                                             self.ys[o])))
                  for o in outs}
            cts = [us[o] if o in us else U.zeros_like(yk) for o, yk in enumerate(self.ys)]
            res = pull(U.unflatten(self.out_tree, cts))
            vjps = [U.host(U.as_concrete(r)) for r in self.in_tree.flatten_up_to(tuple(res))]
            us_h = {o: U.host(u) for o, u in us.items()}
            for i in self.keys:
                eps, atol, rtol, dname = (self._tol(i, outs[0]) if len(outs) == 1
                                          else self._tol(i))
                t_out, _ = self.jvp_along(i)
                # <J^T u, v> over the inputs the direction moves, <u, J v> over the outputs
                # the cotangent covers (single terms when one at a time)
                rhs_terms = [U.dot_and_scale(vjps[j], self.dirs_h[j])
                             for j in self._members(i)]
                lhs_terms = [U.dot_and_scale(us_h[o], self._finite_part(o, t_out[o])
                                             if t_out[o] is not None
                                             else np.zeros_like(self.ys_h[o])) for o in outs]
                rhs, lhs = _total(rhs_terms, 0), _total(lhs_terms, 0)
                scale = max(_total(lhs_terms, 1), _total(rhs_terms, 1))
                if not U.within(abs(lhs - rhs), atol, rtol, scale):
                    raise self._fail(
                        "rev", "the VJP is not the transpose of the JVP (dot-product "
                        "identity <u, J v> = <J^T u, v>)", i, outs,
                        self._rev_common(i, outs, us_h) + [
                            f"abs error {abs(lhs - rhs):.3e}, rel error "
                            f"{_rel(lhs, rhs):.3e} (allowed: atol {atol:g} + rtol {rtol:g} * "
                            f"{scale:.3e})",
                            f"<u, J v> with J v by jvp:     {lhs!r}",
                            f"<J^T u, v> with J^T u by vjp: {rhs!r}"])
                fds, eps, mags = self.fd_along(i)
                fd_terms = [U.dot_and_scale(us_h[o], self._finite_part(o, fds[o]))
                            for o in outs]
                lhs_fd = _total(fd_terms, 0)
                scale_fd = max(scale, _total(fd_terms, 1))
                noise = _total([(4 * U.ulp(dname) * mags[o] / eps * U.abs_sum(us_h[o]),)
                                for o in outs], 0)
                if not U.within(abs(lhs_fd - rhs), atol, rtol, scale_fd, noise):
                    raise self._fail(
                        "rev", "the VJP disagrees with central finite differences (<u, J v> "
                        "with J v by finite differences vs <J^T u, v>)", i, outs,
                        self._rev_common(i, outs, us_h) + [
                            f"finite-difference step eps={eps:g}",
                            f"abs error {abs(lhs_fd - rhs):.3e}, rel error "
                            f"{_rel(lhs_fd, rhs):.3e} (allowed: atol {atol:g} + rtol {rtol:g} "
                            f"* {scale_fd:.3e} + rounding {noise:.3e})",
                            f"<u, J v> with J v by finite differences: {lhs_fd!r}",
                            f"<J^T u, v> with J^T u by vjp:            {rhs!r}"])

    def _finite_part(self, o, a):
        """``a`` (NumPy values over output ``o``) with 0 where ``o`` is not finite at the base
        point."""
        kept = self.kept[o]
        return a if kept is None else np.where(kept, a, np.zeros((), a.dtype))

    def _rev_common(self, i, outs, us_h):
        only_in = " only" if i is not _ALL else ""
        only_out = " only" if len(outs) == 1 else ""
        u = us_h[outs[0]] if len(outs) == 1 else np.concatenate(
            [np.ravel(us_h[o]) for o in outs])
        return [f"tangent v: standard normal on {self._key_desc(i)}{only_in}; "
                f"cotangent u: standard normal on {self._outs_desc(outs)}{only_out}",
                f"v = {self._key_show(i)}", f"u = {U.show(u)}"]

    def _key_desc(self, i):
        if i is not _ALL:
            return self.arg_desc(self.in_paths[i])
        return "every input at once (" + ", ".join(
            self.arg_desc(self.in_paths[j]) for j in self.fin) + ")"

    def _key_show(self, i):
        if i is not _ALL:
            return U.show(self.dirs_h[i])
        return U.show(np.concatenate([np.ravel(self.dirs_h[j]) for j in self.fin]))

    def _outs_desc(self, outs):
        if len(outs) == 1:
            return self.out_desc(self.out_paths[outs[0]])
        return "every output at once (" + ", ".join(
            self.out_desc(self.out_paths[o]) for o in outs) + ")"

    # -- higher orders -----------------------------------------------------------------------
    def recurse_fwd(self):
        f = self.f
        ts = [U.random_like(self.rng, x) if k in self.dirs else U.zeros_like(x)
              for k, x in enumerate(self.xs)]

        def f_jvp(primals, tangents):
            return api.jvp(f, tuple(primals), tuple(tangents))
        f_jvp.__name__ = f"jvp({self.name})"
        arg, out = _jvp_names(self.arg_desc, self.out_desc)
        args = (U.unflatten(self.in_tree, self.xs), U.unflatten(self.in_tree, ts))
        _Level(f_jvp, args, f_jvp.__name__, arg, out, self.order + 1, self.max_order,
               self.modes, self.opts, self.rng, self.seed).run()

    def recurse_rev(self):
        f = self.f
        n = len(self.args)
        us = [U.random_like(self.rng, y) if o in self.fout else U.zeros_like(y)
              for o, y in enumerate(self.ys)]

        def f_vjp(*a):
            _, pull = api.vjp(f, *a[:n])
            return pull(a[n])
        f_vjp.__name__ = f"vjp({self.name})"
        arg, out = _vjp_names(self.arg_desc, self.out_desc, n)
        args = tuple(U.unflatten(self.in_tree, self.xs)) + (U.unflatten(self.out_tree, us),)
        _Level(f_vjp, args, f_vjp.__name__, arg, out, self.order + 1, self.max_order,
               self.modes, self.opts, self.rng, self.seed).run()

    # -- failures ----------------------------------------------------------------------------
    def _header(self, mode):
        what = (f"{self.name}" if self.order == 1 else
                f"{self.name} (the order-{self.order - 1} derivative function being "
                f"differentiated)")
        return f"check_grads: mode {mode!r}, order {self.order}, function {what}"

    def _fail(self, mode, what, i, outs, lines):
        ins = self._members(i)
        head = (f"{self._header(mode)}: {what}\n"
                f"  with respect to {self._key_desc(i)} "
                f"({'; '.join(U.describe_shape(self.xs[j]) for j in ins)})\n"
                f"  at {self._outs_desc(outs)} "
                f"({'; '.join(U.describe_shape(self.ys[o]) for o in outs)})\n"
                f"  directions drawn with seed {self.seed}")
        return GradCheckError(head + "\n" + "\n".join("  " + ln for ln in lines))

    def _fail_plain(self, msg):
        return GradCheckError(f"check_grads: order {self.order}, function {self.name}: {msg}")


_ALL = None  # the direction key that moves every floating input leaf at once


def _total(terms, k):
    """The sum of the ``k``-th items of ``terms`` (a single term exactly as it is)."""
    total = terms[0][k]
    for t in terms[1:]:
        total = total + t[k]
    return total


def _rel(a, b):
    m = max(abs(a), abs(b))
    return abs(a - b) / m if m else 0.0
