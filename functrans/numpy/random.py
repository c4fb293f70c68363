"""functrans.numpy.random: NumPy's random numbers (``numpy.random``), for code written
against ``numpy.random`` or ``autograd.numpy.random`` (``import functrans.numpy.random as
npr``).

The numbers are NumPy's own: the module-level functions (``seed``, ``randn``, ``rand``,
``randint``, ``normal``, ``uniform``, ``choice``, ``permutation``, ``shuffle`` ... every
function of NumPy's legacy global interface) draw from NumPy's global ``RandomState``
itself, so ``npr.seed(0); npr.randn(3)`` gives exactly what ``numpy.random`` (and
``autograd.numpy.random``) give after the same seed, and the two share that state.
:class:`RandomState` and :func:`default_rng` wrap NumPy's ``RandomState`` and
``Generator`` the same way. Arrays come back as arrays of the default backend
(:func:`functrans.default_backend`; NumPy arrays with ``.at`` by default), Python and NumPy
scalars as NumPy gives them.

Samples are **constants** to the transforms: nothing is differentiated through a sampled
value, and a parameter being differentiated (or batched, or staged) cannot be passed as a
distribution's parameter (``npr.normal(mu, sigma)`` with ``mu`` traced is a TypeError
rather than a silently zero derivative). Write the reparameterised form instead,
``mu + sigma * npr.randn(n)``, which differentiates in ``mu`` and ``sigma``; or use
:mod:`functrans.random` (JAX's keys), whose samplers are differentiable in their
parameters and run under ``jit`` and ``vmap``. Two functions accept traced arrays, because
their randomness is in indices only: ``permutation(x)`` and ``choice(a, ...)`` draw the
indices from NumPy (the same numbers as for a NumPy array) and gather the traced values,
which stay differentiable. ``shuffle`` works in place, so only on NumPy arrays.

Draws happen when the Python code runs, so where it runs once for many values they are
made once: inside ``functrans.jit`` the numbers are drawn while the function is staged and
become constants of the graph, so every later call of the jitted function gives the *same*
numbers (as NumPy's random functions do inside ``jax.jit``); under ``vmap`` one draw
serves the whole batch (every example gets the same numbers, the same permutation), unless
the vmap says otherwise: ``vmap(f, randomness="different")`` draws once per member, in
member order (the numbers of a loop over the members), and ``randomness="error"`` refuses
draws. Draw outside and pass the sample in as an argument, or use :mod:`functrans.random`,
whose keys are arguments.
"""

from __future__ import annotations

import functools

import numpy as _np

from ..batching import batched_sample, different_random_levels, refuse_random_draw
from ..core import Tracer
from ..tree import tree_flatten

__all__ = ["BitGenerator", "Generator", "MT19937", "PCG64", "PCG64DXSM", "Philox",
           "RandomState", "SFC64", "SeedSequence", "beta", "binomial", "bytes", "chisquare", "choice", "default_rng",
           "dirichlet", "exponential", "f", "gamma", "geometric", "get_bit_generator", "get_state", "gumbel",
           "hypergeometric", "laplace", "logistic", "lognormal", "logseries", "multinomial",
           "multivariate_normal", "negative_binomial", "noncentral_chisquare",
           "noncentral_f", "normal", "pareto", "permutation", "poisson", "power", "rand",
           "randint", "randn", "random", "random_integers", "random_sample", "ranf",
           "rayleigh", "sample", "seed", "set_bit_generator", "set_state", "shuffle", "standard_cauchy",
           "standard_exponential", "standard_gamma", "standard_normal", "standard_t",
           "triangular", "uniform", "vonmises", "wald", "weibull", "zipf"]


# -- conversions ---------------------------------------------------------------------------

def _foreign(x):
    """Whether ``x`` is an array of another library than NumPy (torch, array-api-strict)."""
    return (hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, type)
            and not isinstance(x, (_np.ndarray, _np.generic, Tracer)))


def _arg(x, fname):
    """An argument as NumPy sees it: a traced value is a TypeError; another library's array
    becomes a NumPy array."""
    if any(isinstance(leaf, Tracer) for leaf in tree_flatten(x)[0]):
        raise TypeError(
            f"functrans.numpy.random.{fname}: a parameter is being transformed (differentiated, "
            f"batched or staged), but NumPy's samplers take plain values and give constants. "
            f"Sample with fixed parameters and transform the sample (mu + sigma * "
            f"randn(...)), or use functrans.random (differentiable, reparameterised "
            f"samplers).")
    if _foreign(x):
        from ..backends import backend_of
        return backend_of(x).to_numpy(x)
    return x


def _out(r):
    """A NumPy result as an array of the default backend (NumPy scalars stay scalars); under
    forward mode or vmap a constant tracer, as the creation functions' arrays."""
    if not isinstance(r, _np.ndarray):
        return r
    from ..backends import default
    from ..backends.numpy_backend import with_at
    from ..interpreters import constant
    b = default()
    if b.name == "numpy":
        return constant(with_at(r.view(_np.ndarray)))
    if r.dtype.kind in "OSUV":  # strings, objects (choice of a list of names): NumPy's
        return r
    return constant(b.xp.asarray(r))


def _per_member(draw, levels, fname, like=None):
    """``draw()`` once for each member of the running ``vmap(..., randomness="different")``
    levels (in member order), stacked as those levels' batch: an array of the default
    backend, or of ``like``'s library and device (indices into ``like``)."""
    sizes = tuple(n for _, n in levels)
    n = 1
    for k in sizes:
        n *= k
    samples = [_np.asarray(draw()) for _ in range(max(n, 1))][:n] or None
    if samples is None:  # a zero-size batch: one draw for the shape and dtype, none kept
        s = _np.asarray(draw())
        r = _np.empty(sizes + s.shape, s.dtype)
    else:
        r = _np.stack(samples).reshape(sizes + samples[0].shape)
    if r.dtype.kind in "OSUV":
        raise TypeError(f"functrans.numpy.random.{fname} under vmap(..., randomness="
                        f"'different'): its samples ({r.dtype}) cannot be batched; draw "
                        f"outside the vmap.")
    if like is not None:
        from ..api import _concrete_backend
        b, device = _concrete_backend(like)
        value = b.xp.asarray(r, **({"device": device} if device is not None else {}))
    else:
        from ..backends import default
        b = default()
        value = r if b.name == "numpy" else b.xp.asarray(r)
    return batched_sample(value, levels)


def _wrap_method(method, fname):
    @functools.wraps(method)
    def sampler(*args, **kwargs):
        refuse_random_draw(fname)
        args = tuple(_arg(a, fname) for a in args)
        kwargs = {k: _arg(v, fname) for k, v in kwargs.items()}
        levels = different_random_levels()
        if levels:
            return _per_member(lambda: method(*args, **kwargs), levels, fname)
        return _out(method(*args, **kwargs))
    sampler.__doc__ = (f"NumPy's ``{fname}``, drawing from the wrapped NumPy state; the "
                       f"result is a constant array of the default backend (see "
                       f"functrans.numpy.random).")
    return sampler


class _Sampler:
    """What :class:`RandomState` and :func:`default_rng`'s generator share: NumPy's
    methods with conversions, and the index-based ``permutation``/``choice``/``shuffle``."""

    def __init__(self, state):
        object.__setattr__(self, "_state", state)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        method = getattr(self._state, name)
        if not callable(method):
            return method
        return _wrap_method(method, name)

    def __dir__(self):
        return sorted(set(dir(type(self))) | {n for n in dir(self._state)
                                               if not n.startswith("_")})

    def permutation(self, x, *args, **kwargs):
        """A random permutation of ``range(x)`` (an int), or of the first axis of the array
        ``x``, which may be traced: NumPy draws the order and the values are gathered."""
        refuse_random_draw("permutation")
        if isinstance(x, Tracer) or _foreign(x):
            shape = tuple(x.shape)
            if not shape:
                raise TypeError("permutation: x must be an integer or an array of at least "
                                "one dimension; got a 0-d array.")
            axis = _axis_arg(self, "permutation", args, kwargs, len(shape))
            levels = different_random_levels()
            if levels:  # an order per member
                from . import take
                idx = _per_member(lambda: self._state.permutation(shape[axis]), levels,
                                  "permutation", like=x)
                return take(x, idx, axis=axis)
            idx = self._state.permutation(shape[axis])
            return _take0(x, idx, axis)
        levels = different_random_levels()
        if levels:
            return _per_member(lambda: self._state.permutation(x, *args, **kwargs), levels,
                               "permutation")
        return _out(self._state.permutation(x, *args, **kwargs))

    def choice(self, a, *args, **kwargs):
        """NumPy's ``choice``: a sample of ``a`` (an int for ``range(a)``, or a 1-d array,
        which may be traced: NumPy draws the positions and the values are gathered)."""
        refuse_random_draw("choice")
        if isinstance(a, Tracer) or _foreign(a):
            shape = tuple(a.shape)
            args = tuple(_arg(v, "choice") for v in args)
            kwargs = {k: _arg(v, "choice") for k, v in kwargs.items()}
            axis = 0
            if isinstance(self._state, _np.random.Generator):
                # Generator.choice(a, size, replace, p, axis, shuffle): positions on ``axis``
                if len(args) > 3:
                    axis, args = args[3], args[:3] + (0,) + args[4:]
                else:
                    axis = kwargs.pop("axis", 0)
                if not shape:
                    raise ValueError("choice: a must be an integer or an array of at least "
                                     "one dimension; got a 0-d array.")
                if type(axis) is not int and not isinstance(axis, _np.integer):
                    raise TypeError(f"choice: axis must be an integer; got "
                                    f"{type(axis).__name__}.")
                if not -len(shape) <= axis < len(shape):
                    raise ValueError(f"choice: axis {axis} is out of bounds for an array of "
                                     f"dimension {len(shape)}.")
                axis = int(axis) % len(shape)
            elif len(shape) != 1:
                raise ValueError("choice: a must be an integer or a 1-d array; got shape "
                                 f"{shape}.")
            levels = different_random_levels()
            if levels:  # positions per member
                from . import take
                idx = _per_member(lambda: self._state.choice(shape[axis], *args, **kwargs),
                                  levels, "choice", like=a)
                return take(a, idx, axis=axis)
            idx = self._state.choice(shape[axis], *args, **kwargs)
            return _take0(a, idx, axis)
        args = tuple(_arg(v, "choice") for v in args)
        kwargs = {k: _arg(v, "choice") for k, v in kwargs.items()}
        levels = different_random_levels()
        if levels:
            a = _arg(a, "choice")
            return _per_member(lambda: self._state.choice(a, *args, **kwargs), levels, "choice")
        return _out(self._state.choice(_arg(a, "choice"), *args, **kwargs))

    def shuffle(self, x, *args, **kwargs):
        """Shuffle the NumPy array (or list) ``x`` along its first axis, in place, and return
        None. A traced or non-NumPy array cannot be changed in place: use ``x =
        permutation(x)``, which is also differentiable."""
        refuse_random_draw("shuffle")
        if different_random_levels():
            raise TypeError(
                "shuffle under vmap(..., randomness='different'): one array shuffled in place "
                "cannot hold an order per member; write x = permutation(x) instead.")
        from ..interpreters import ConstTracer
        if type(x) is ConstTracer and not _foreign(x.primal):
            # an array made inside a transform (a constant): shuffled as NumPy would, on a
            # copy (its array may be the user's, from asarray), which the constant then holds
            y = x.primal.copy()
            self._state.shuffle(y, *args, **kwargs)
            x.primal = y
            return
        if isinstance(x, Tracer) or _foreign(x):
            raise TypeError(
                f"shuffle works in place, so only on NumPy arrays (and lists); got "
                f"{type(x).__name__}. Write x = permutation(x) instead (it gathers the "
                f"values, so derivatives flow through it).")
        self._state.shuffle(x, *args, **kwargs)


def _axis_arg(sampler, fname, args, kwargs, ndim):
    """The ``axis`` of ``Generator.permutation(x, axis=0)`` (RandomState's takes none)."""
    if not isinstance(sampler._state, _np.random.Generator):
        if args or kwargs:
            raise TypeError(f"{fname}() of RandomState takes no other argument than x.")
        return 0
    if len(args) + len(kwargs) > 1 or (kwargs and "axis" not in kwargs):
        raise TypeError(f"{fname}: unexpected arguments {args} {kwargs}; the only other "
                        f"argument is axis.")
    axis = args[0] if args else kwargs.get("axis", 0)
    if type(axis) is not int and not isinstance(axis, _np.integer):
        raise TypeError(f"{fname}: axis must be an integer; got {type(axis).__name__}.")
    from ._base import _normalize_axis
    return _normalize_axis(int(axis), ndim)


def _take0(x, idx, axis=0):
    """The entries ``idx`` (NumPy integers) along ``axis`` of the array ``x`` (traced or of
    any library)."""
    from ..api import _concrete_backend
    from . import take
    idx = _np.asarray(idx)
    b, device = _concrete_backend(x)  # the indices go to the library and device of x
    if idx.ndim == 0 and axis == 0:
        return x[int(idx)]
    index = b.xp.asarray(idx, **({"device": device} if device is not None else {}))
    return take(x, index, axis=axis)


class RandomState(_Sampler):
    """NumPy's ``RandomState(seed)``: a private stream with every method of NumPy's (the
    same numbers for the same seed), results converted as the module's functions do."""

    def __init__(self, seed=None):
        if isinstance(seed, _np.random.RandomState):
            super().__init__(seed)
        else:
            super().__init__(_np.random.RandomState(_arg(seed, "RandomState")))

    def __repr__(self):
        return f"functrans.numpy.random.RandomState({self._state!r})"


class Generator(_Sampler):
    """NumPy's ``Generator`` (what :func:`default_rng` gives), its results converted as the
    module's functions do. ``integers``, ``random``, ``normal``, ``standard_normal``,
    ``uniform``, ``choice``, ``permutation``, ``shuffle`` and the other methods are NumPy's."""

    def __init__(self, bit_generator):
        super().__init__(_np.random.Generator(bit_generator))

    def __repr__(self):
        return f"functrans.numpy.random.Generator({self._state.bit_generator!r})"

    def spawn(self, n_children):
        """NumPy's ``spawn``: ``n_children`` independent child generators (of this class)."""
        return [Generator(g.bit_generator) for g in self._state.spawn(n_children)]


def default_rng(seed=None):
    """NumPy's ``default_rng(seed)``: a :class:`Generator` (PCG64) with NumPy's numbers. A
    :class:`Generator` passed as ``seed`` comes back itself, as NumPy's does."""
    if isinstance(seed, Generator):
        return seed
    g = _np.random.default_rng(_arg(seed, "default_rng"))
    return Generator(g.bit_generator)


# NumPy's bit generators and seed sequence themselves (they make no arrays of samples):
# ``Generator(PCG64(seed))`` as with numpy.random.
BitGenerator = _np.random.BitGenerator
MT19937 = _np.random.MT19937
PCG64 = _np.random.PCG64
PCG64DXSM = _np.random.PCG64DXSM
Philox = _np.random.Philox
SFC64 = _np.random.SFC64
SeedSequence = _np.random.SeedSequence


# -- the global state: NumPy's own ------------------------------------------------------------

def _global():
    return RandomState(_np.random.mtrand._rand)


def seed(seed=None):
    """Seed NumPy's global random state (``numpy.random.seed``), which these functions
    draw from."""
    _np.random.seed(_arg(seed, "seed"))


def get_state(legacy=True):
    """NumPy's ``get_state``: the global state, to restore with :func:`set_state`."""
    return _np.random.get_state(legacy=legacy)


def set_state(state):
    """NumPy's ``set_state``: restore the global state saved by :func:`get_state`."""
    _np.random.set_state(state)


def get_bit_generator():
    """NumPy's ``get_bit_generator``: the bit generator of the global state."""
    return _np.random.get_bit_generator()


def set_bit_generator(bitgen):
    """NumPy's ``set_bit_generator``: make ``bitgen`` the global state's bit generator."""
    _np.random.set_bit_generator(bitgen)


def rand(*dims):
    """Uniform samples on [0, 1) of shape ``dims`` (NumPy's ``rand``; a float for none)."""
    return _global().rand(*dims)


def randn(*dims):
    """Standard normal samples of shape ``dims`` (NumPy's ``randn``; a float for none)."""
    return _global().randn(*dims)


def randint(low, high=None, size=None, dtype=int):
    """Integers from ``[low, high)`` (``[0, low)`` without ``high``), NumPy's ``randint``."""
    return _global().randint(low, high, size, dtype)


def normal(loc=0.0, scale=1.0, size=None):
    """Normal samples with mean ``loc`` and standard deviation ``scale`` (NumPy's
    ``normal``); ``loc`` and ``scale`` must not be traced (see the module's docstring)."""
    return _global().normal(loc, scale, size)


def uniform(low=0.0, high=1.0, size=None):
    """Uniform samples on ``[low, high)`` (NumPy's ``uniform``)."""
    return _global().uniform(low, high, size)


def standard_normal(size=None):
    """Standard normal samples of shape ``size`` (NumPy's ``standard_normal``)."""
    return _global().standard_normal(size)


def random_sample(size=None):
    """Uniform samples on [0, 1) of shape ``size`` (NumPy's ``random_sample``; also
    ``random``, ``ranf`` and ``sample``)."""
    return _global().random_sample(size)


random = ranf = sample = random_sample


def choice(a, size=None, replace=True, p=None):
    """NumPy's ``choice`` from the global state: a sample of ``range(a)`` or of the 1-d
    array ``a``, which may be traced (the positions are NumPy's, the values gathered)."""
    return _global().choice(a, size, replace, p)


def permutation(x):
    """NumPy's ``permutation`` from the global state: ``range(x)`` permuted, or a copy of
    the array ``x`` with its first axis permuted (``x`` may be traced)."""
    return _global().permutation(x)


def shuffle(x):
    """NumPy's ``shuffle``: permute the NumPy array (or list) ``x`` along its first axis in
    place. A traced array is a TypeError: use ``x = permutation(x)``."""
    return _global().shuffle(x)


def _make(name):
    def sampler(*args, **kwargs):
        return getattr(_global(), name)(*args, **kwargs)
    sampler.__name__ = sampler.__qualname__ = name
    sampler.__doc__ = (f"NumPy's ``numpy.random.{name}`` from the global state, with NumPy's "
                       f"parameters; the sample is a constant array of the default backend "
                       f"(parameters must not be traced).")
    return sampler


beta = _make("beta")
binomial = _make("binomial")
bytes = _make("bytes")
chisquare = _make("chisquare")
dirichlet = _make("dirichlet")
exponential = _make("exponential")
f = _make("f")
gamma = _make("gamma")
geometric = _make("geometric")
gumbel = _make("gumbel")
hypergeometric = _make("hypergeometric")
laplace = _make("laplace")
logistic = _make("logistic")
lognormal = _make("lognormal")
logseries = _make("logseries")
multinomial = _make("multinomial")
multivariate_normal = _make("multivariate_normal")
negative_binomial = _make("negative_binomial")
noncentral_chisquare = _make("noncentral_chisquare")
noncentral_f = _make("noncentral_f")
pareto = _make("pareto")
poisson = _make("poisson")
power = _make("power")
random_integers = _make("random_integers")
rayleigh = _make("rayleigh")
standard_cauchy = _make("standard_cauchy")
standard_exponential = _make("standard_exponential")
standard_gamma = _make("standard_gamma")
standard_t = _make("standard_t")
triangular = _make("triangular")
vonmises = _make("vonmises")
wald = _make("wald")
weibull = _make("weibull")
zipf = _make("zipf")
