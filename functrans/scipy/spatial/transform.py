"""``functrans.scipy.spatial.transform``: ``Rotation`` (rotations in three dimensions stored as
unit quaternions), as ``jax.scipy.spatial.transform.Rotation``, with SciPy's conventions and
values, differentiable and on every backend."""

from __future__ import annotations

import math

from ... import numpy as fnp
from ...core import is_concrete_array
from ...numpy._base import _made_for_caller
from ...numpy._indexing import _getitem
from ...numpy._mathematics import _operand
from ...tree import register_pytree_node_class

__all__ = ["Rotation", "Slerp"]

_NAME = "functrans.scipy.spatial.transform.Rotation"


def _array(x):
    x = _operand(x)
    if not hasattr(x, "shape"):
        x = fnp.asarray(x)
    if not fnp.isdtype(x.dtype, "real floating"):
        if fnp.isdtype(x.dtype, "complex floating"):
            raise TypeError(f"{_NAME}: complex input is not supported")
        x = fnp.astype(x, fnp.float64)
    return x


def _last(x, i):
    """``x[..., i]`` (kept 0-d for 1-d ``x``)."""
    return x[..., i]


def _safe_norm(v):
    """The Euclidean norm over the last axis, with derivative 0 (not nan) at 0."""
    n2 = fnp.sum(fnp.multiply(v, v), axis=-1)
    pos = n2 > 0
    return fnp.where(pos, fnp.sqrt(fnp.where(pos, n2, fnp.ones_like(n2))), fnp.zeros_like(n2))


def _normalize(q):
    return fnp.divide(q, fnp.linalg.vector_norm(q, axis=-1, keepdims=True))


def _compose(p, q):
    """The Hamilton product ``p q`` of scalar-last quaternions (broadcast)."""
    pv, pw = p[..., :3], p[..., 3:]
    qv, qw = q[..., :3], q[..., 3:]
    v = fnp.add(fnp.add(fnp.multiply(pw, qv), fnp.multiply(qw, pv)), fnp.linalg.cross(pv, qv))
    w = fnp.subtract(fnp.multiply(pw, qw), fnp.sum(fnp.multiply(pv, qv), axis=-1,
                                                   keepdims=True))
    return fnp.concat(fnp.broadcast_arrays(v, w), axis=-1) if v.shape[:-1] != w.shape[:-1] \
        else fnp.concat([v, w], axis=-1)


def _canonical(q):
    """``q`` or ``-q``, whichever has ``w > 0`` (at ``w = 0``: the first nonzero of x, y, z
    positive), as SciPy's ``canonical=True``."""
    x, y, z, w = (q[..., i] for i in range(4))
    flip = fnp.where(w != 0, w < 0, fnp.where(x != 0, x < 0, fnp.where(y != 0, y < 0, z < 0)))
    return fnp.where(flip[..., None], fnp.negative(q), q)


def _elementary(axis, angle):
    """The quaternions of rotations by ``angle`` (any shape) about coordinate ``axis``."""
    half = fnp.multiply(angle, 0.5)
    s, c = fnp.sin(half), fnp.cos(half)
    z = fnp.zeros_like(s)
    parts = [z, z, z, c]
    parts[axis] = s
    return fnp.stack(parts, axis=-1)


_AXES = {"x": 0, "y": 1, "z": 2}


def _parse_seq(seq):
    if not isinstance(seq, str) or not 1 <= len(seq) <= 3:
        raise ValueError(f"{_NAME}: the axis sequence must be a string of 1 to 3 characters; "
                         f"got {seq!r}")
    intrinsic = seq.isupper()
    if not (intrinsic or seq.islower()) or any(c not in "xyz" for c in seq.lower()):
        raise ValueError(f"{_NAME}: the axis sequence must be made of 'x', 'y', 'z' (extrinsic) "
                         f"or of 'X', 'Y', 'Z' (intrinsic), not mixed; got {seq!r}")
    if any(a == b for a, b in zip(seq, seq[1:])):
        raise ValueError(f"{_NAME}: consecutive axes of the sequence must differ; got "
                         f"{seq!r}")
    return [_AXES[c] for c in seq.lower()], intrinsic


def _wrap(a):
    """Angles into [-pi, pi]."""
    a = fnp.where(a < -math.pi, a + 2 * math.pi, a)
    return fnp.where(a > math.pi, a - 2 * math.pi, a)


@register_pytree_node_class
class Rotation:
    """Rotations in three dimensions (one, or an array of them), as
    ``jax.scipy.spatial.transform.Rotation`` and ``scipy.spatial.transform.Rotation``:
    build them with the ``from_*`` class methods (``from_quat``, ``from_matrix``,
    ``from_rotvec``, ``from_mrp``, ``from_euler``, ``identity``, ``random``,
    ``concatenate``), read them with the ``as_*`` methods, compose them with ``*`` (``(p *
    q).apply(v) == p.apply(q.apply(v))``), invert them with ``inv()``.

    A rotation holds a unit quaternion, scalar last (``quat``, shape ``(4,)`` or ``(..., 4)``
    for an array of rotations); arrays of rotations broadcast together in ``*`` and
    ``apply``. It is a pytree whose one leaf is the quaternion, so rotations pass through
    ``jit``, ``vmap`` and ``grad``, and every conversion is differentiable (away from the
    singular points of the Euler angles).

    Differences from SciPy's: ``random(random_key, num=None)`` takes a
    :mod:`functrans.random` key (JAX's signature); a zero quaternion gives nan instead of
    ValueError; ``as_euler`` at gimbal lock sets the third angle (the first for an intrinsic
    sequence) to 0 as SciPy, but without SciPy's warning; ``from_matrix`` does not
    orthogonalize a matrix that is not a rotation (Markley's method on its entries, as
    JAX's); no ``align_vectors``, ``reduce``, ``create_group``, ``approx_equal``,
    ``as_davenport``/``from_davenport``.
    """

    def __init__(self, quat):
        self.quat = quat

    def tree_flatten(self):
        return (self.quat,), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(children[0])

    def __repr__(self):
        return f"Rotation({self.quat!r})"

    # -- construction --------------------------------------------------------------------

    @classmethod
    def from_quat(cls, quat, *, scalar_first=False):
        """The rotations of quaternions ``quat`` (``(4,)`` or ``(..., 4)``; scalar last
        unless ``scalar_first``), normalized."""
        q = _array(quat)
        if q.ndim == 0 or q.shape[-1] != 4:
            raise ValueError(f"{_NAME}.from_quat: expected quaternions of shape (4,) or "
                             f"(..., 4); got shape {tuple(q.shape)}")
        if scalar_first:
            q = fnp.roll(q, -1, axis=-1)
        return cls(_normalize(q))

    @classmethod
    def from_matrix(cls, matrix):
        """The rotations of rotation matrices ``matrix`` (``(3, 3)`` or ``(..., 3, 3)``), by
        Markley's method (the quaternion from the largest of the diagonal and the trace)."""
        m = _array(matrix)
        if m.ndim < 2 or tuple(m.shape[-2:]) != (3, 3):
            raise ValueError(f"{_NAME}.from_matrix: expected matrices of shape (3, 3) or "
                             f"(..., 3, 3); got shape {tuple(m.shape)}")

        def e(i, j):
            return m[..., i, j]

        tr = fnp.add(fnp.add(e(0, 0), e(1, 1)), e(2, 2))
        cands = []
        for i in range(3):
            j, k = (i + 1) % 3, (i + 2) % 3
            q = [None] * 4
            q[i] = 1 - tr + 2 * e(i, i)
            q[j] = e(j, i) + e(i, j)
            q[k] = e(k, i) + e(i, k)
            q[3] = e(k, j) - e(j, k)
            cands.append(fnp.stack(q, axis=-1))
        cands.append(fnp.stack([e(2, 1) - e(1, 2), e(0, 2) - e(2, 0), e(1, 0) - e(0, 1),
                                1 + tr], axis=-1))
        decision = fnp.stop_gradient(fnp.stack([e(0, 0), e(1, 1), e(2, 2), tr], axis=-1))
        choice = fnp.argmax(decision, axis=-1)
        q = cands[3]
        for i in range(3):
            q = fnp.where((choice == i)[..., None], cands[i], q)
        return cls(_normalize(q))

    @classmethod
    def from_rotvec(cls, rotvec, degrees=False):
        """The rotations by ``|v|`` radians (degrees) about the axes ``v`` of ``rotvec``
        (``(3,)`` or ``(..., 3)``)."""
        v = _array(rotvec)
        if v.ndim == 0 or v.shape[-1] != 3:
            raise ValueError(f"{_NAME}.from_rotvec: expected rotation vectors of shape (3,) "
                             f"or (..., 3); got shape {tuple(v.shape)}")
        if degrees:
            v = fnp.multiply(v, math.pi / 180)
        a2 = fnp.sum(fnp.multiply(v, v), axis=-1)
        small = a2 <= 1e-6
        a = fnp.sqrt(fnp.where(small, fnp.ones_like(a2), a2))
        # sin(a / 2) / a, by its series near 0
        scale = fnp.where(small, 0.5 - a2 / 48 + fnp.multiply(a2, a2) / 3840,
                          fnp.sin(a / 2) / a)
        w = fnp.where(small, 1 - a2 / 8 + fnp.multiply(a2, a2) / 384, fnp.cos(a / 2))
        return cls(fnp.concat([fnp.multiply(v, scale[..., None]), w[..., None]], axis=-1))

    @classmethod
    def from_mrp(cls, mrp):
        """The rotations of modified Rodrigues parameters ``mrp`` (``(3,)`` or ``(...,
        3)``: the axis times ``tan(angle / 4)``)."""
        p = _array(mrp)
        if p.ndim == 0 or p.shape[-1] != 3:
            raise ValueError(f"{_NAME}.from_mrp: expected MRPs of shape (3,) or (..., 3); "
                             f"got shape {tuple(p.shape)}")
        ps = fnp.sum(fnp.multiply(p, p), axis=-1, keepdims=True)
        return cls(fnp.concat([fnp.divide(2 * p, 1 + ps), fnp.divide(1 - ps, 1 + ps)],
                              axis=-1))

    @classmethod
    def from_euler(cls, seq, angles, degrees=False):
        """The rotations by Euler ``angles`` about the axes of ``seq`` (1 to 3 of ``"xyz"``
        for rotations about the fixed axes, extrinsic, or of ``"XYZ"`` for the rotating
        ones, intrinsic). ``angles`` is ``(len(seq),)`` for one rotation or ``(...,
        len(seq))`` (SciPy 1.17's rule; for one axis, a number is one rotation too)."""
        axes, intrinsic = _parse_seq(seq)
        a = _array(angles)
        if a.ndim == 0 and len(axes) == 1:
            a = a[None]
        if a.ndim == 0 or a.shape[-1] != len(axes):
            raise ValueError(f"{_NAME}.from_euler: expected angles of shape ({len(axes)},) "
                             f"or (..., {len(axes)}) for the sequence {seq!r}; got shape "
                             f"{tuple(a.shape)}")
        if degrees:
            a = fnp.multiply(a, math.pi / 180)
        q = None
        for n, ax in enumerate(axes):
            e = _elementary(ax, a[..., n])
            q = e if q is None else (_compose(q, e) if intrinsic else _compose(e, q))
        return cls(q)

    @classmethod
    def identity(cls, num=None, dtype=fnp.float64):
        """The identity rotation (``num=None``), or ``num`` of them."""
        shape = (4,) if num is None else (int(num), 4)
        q = _made_for_caller(fnp.zeros(shape, dtype=dtype))  # (a constant, for user code)
        return cls(fnp.concat([q[..., :3], fnp.ones_like(q[..., 3:])], axis=-1))

    @classmethod
    def random(cls, random_key, num=None):
        """Uniformly distributed random rotations (normalized normal quaternions) from a
        :mod:`functrans.random` key: one (``num=None``) or ``num``."""
        from ... import random as _random
        shape = (4,) if num is None else (int(num), 4)
        return cls.from_quat(_random.normal(random_key, shape))

    @classmethod
    def concatenate(cls, rotations):
        """One array of rotations from a sequence of rotations (single or arrays)."""
        quats = [r.quat if r.quat.ndim > 1 else r.quat[None, :] for r in rotations]
        return cls(fnp.concat(quats, axis=0))

    # -- conversions ---------------------------------------------------------------------

    def as_quat(self, canonical=False, *, scalar_first=False):
        """The unit quaternions (scalar last unless ``scalar_first``); ``canonical`` picks
        the one of ``q``, ``-q`` with a positive scalar part."""
        q = _canonical(self.quat) if canonical else self.quat
        return fnp.roll(q, 1, axis=-1) if scalar_first else q

    def as_matrix(self):
        """The rotation matrices, ``(3, 3)`` or ``(..., 3, 3)``."""
        q = self.quat
        x, y, z, w = (q[..., i] for i in range(4))
        xx, yy, zz, ww = x * x, y * y, z * z, w * w
        xy, zw, xz, yw, yz, xw = x * y, z * w, x * z, y * w, y * z, x * w
        rows = [[xx - yy - zz + ww, 2 * (xy - zw), 2 * (xz + yw)],
                [2 * (xy + zw), -xx + yy - zz + ww, 2 * (yz - xw)],
                [2 * (xz - yw), 2 * (yz + xw), -xx - yy + zz + ww]]
        return fnp.stack([fnp.stack(r, axis=-1) for r in rows], axis=-2)

    def as_rotvec(self, degrees=False):
        """The rotation vectors: the axes times the angles (in ``[0, pi]``), in radians or
        degrees."""
        q = _canonical(self.quat)
        v, w = q[..., :3], q[..., 3]
        angle = 2 * fnp.atan2(_safe_norm(v), w)
        a2 = angle * angle
        small = angle <= 1e-3
        safe = fnp.where(small, fnp.ones_like(angle), angle)
        # angle / sin(angle / 2), by its series near 0
        scale = fnp.where(small, 2 + a2 / 12 + 7 * a2 * a2 / 2880, safe / fnp.sin(safe / 2))
        r = fnp.multiply(v, scale[..., None])
        return fnp.multiply(r, 180 / math.pi) if degrees else r

    def as_mrp(self):
        """The modified Rodrigues parameters (the axis times ``tan(angle / 4)``, the angle
        in ``[0, pi]``)."""
        # (the sign of q flipped where w < 0 only, as SciPy: at an angle of pi, w = 0, the
        # two opposite MRPs of the rotation are kept as the quaternion gives them)
        q = self.quat
        q = fnp.where(q[..., 3:] < 0, fnp.negative(q), q)
        return fnp.divide(q[..., :3], 1 + q[..., 3:])

    def as_euler(self, seq, degrees=False):
        """The Euler angles about the axes of ``seq`` (see :meth:`from_euler`): the first
        and third in ``[-pi, pi]``, the second in ``[0, pi]`` (a repeated axis, as
        ``"zxz"``) or ``[-pi/2, pi/2]``; by the quaternion method of Bernardes and Viollet
        (2022), as SciPy."""
        axes, intrinsic = _parse_seq(seq)
        if len(axes) != 3:
            raise ValueError(f"{_NAME}.as_euler: the sequence must have 3 axes; got {seq!r}")
        if intrinsic:
            axes = axes[::-1]
        i, j, k = axes
        symmetric = i == k
        if symmetric:
            k = 3 - i - j
        sign = (i - j) * (j - k) * (k - i) // 2
        q = self.quat
        qi, qj, qk, qw = q[..., i], q[..., j], q[..., k], q[..., 3]
        if symmetric:
            a, b, c, d = qw, qi, qj, qk * sign
        else:
            a, b, c, d = qw - qj, qi + qk * sign, qj + qw, qk * sign - qi
        second = 2 * fnp.atan2(fnp.hypot(c, d), fnp.hypot(a, b))
        eps = 1e-7
        s2 = fnp.stop_gradient(second)
        lock0 = fnp.abs(s2) <= eps
        lock_pi = fnp.abs(s2 - math.pi) <= eps
        # each half angle where it is used: at a lock the other one's atan2 is at (0, 0),
        # and its nan slope times the zero cotangent of the unused branch made every reverse
        # derivative nan (forward mode was finite)
        one, zero = fnp.ones_like(a), fnp.zeros_like(a)
        half_sum = fnp.atan2(fnp.where(lock_pi, zero, b), fnp.where(lock_pi, one, a))
        half_diff = fnp.atan2(fnp.where(lock0, zero, d), fnp.where(lock0, one, c))
        first = half_sum - half_diff
        third = half_sum + half_diff
        if intrinsic:
            first, third = third, first
        # at gimbal lock SciPy sets the last angle (of the extrinsic order) to 0
        locked0 = 2 * half_sum
        locked_pi = 2 * half_diff if intrinsic else -2 * half_diff
        lock = lock0 | lock_pi
        first_l = fnp.where(lock0, locked0, locked_pi)
        angle0 = fnp.where(lock, first_l, first)
        angle2 = fnp.where(lock, zero, third)
        if not symmetric:
            if intrinsic:
                angle0 = angle0 * sign
            else:
                angle2 = angle2 * sign
            second = second - math.pi / 2
        out = fnp.stack([_wrap(angle0), second, _wrap(angle2)], axis=-1)
        return fnp.multiply(out, 180 / math.pi) if degrees else out

    # -- operations ----------------------------------------------------------------------

    def apply(self, vectors, inverse=False):
        """The vectors (``(3,)`` or ``(..., 3)``) rotated by these rotations (by their
        inverses if ``inverse``); rotations and vectors broadcast."""
        v = _array(vectors)
        if v.ndim == 0 or v.shape[-1] != 3:
            raise ValueError(f"{_NAME}.apply: expected vectors of shape (3,) or (..., 3); "
                             f"got shape {tuple(v.shape)}")
        m = self.as_matrix()
        if inverse:
            m = fnp.swapaxes(m, -1, -2)
        return fnp.matmul(m, v[..., None])[..., 0]

    def inv(self):
        """The inverse rotations (the conjugate quaternions)."""
        q = self.quat
        return Rotation(fnp.concat([fnp.negative(q[..., :3]), q[..., 3:]], axis=-1))

    def magnitude(self):
        """The rotation angles in radians, in ``[0, pi]``."""
        q = self.quat
        return 2 * fnp.atan2(_safe_norm(q[..., :3]), fnp.abs(q[..., 3]))

    def mean(self, weights=None, axis=None):
        """The mean rotation (the quaternion maximizing the weighted sum of squared dot
        products with these: the leading eigenvector of ``sum w q q^T``), as SciPy: over
        every rotation (``axis=None``) or over the batch axes ``axis`` (an int or a tuple);
        ``weights`` (non-negative: a negative one is a ValueError where they are concrete)
        broadcast to the rotations' batch shape."""
        q = self.quat if self.quat.ndim > 1 else self.quat[None, :]
        batch = tuple(q.shape[:-1])
        if axis is None:
            axes = tuple(range(len(batch)))
        else:
            axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
            if any(isinstance(a, bool) or not isinstance(a, int) or not -len(batch) <= a
                   < len(batch) for a in axes):
                raise ValueError(f"{_NAME}.mean: axis {axis!r} is out of range for rotations "
                                 f"of shape {batch}")
            axes = tuple(a % len(batch) for a in axes)
            if len(set(axes)) != len(axes):
                raise ValueError(f"{_NAME}.mean: repeated axis in {axis!r}")
        if weights is not None:
            w = _array(weights)
            try:
                ok = fnp.broadcast_shapes(tuple(w.shape), batch) == batch
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(f"{_NAME}.mean: weights of shape {tuple(w.shape)} do not "
                                 f"broadcast to the rotations' shape {batch}")
            # (a negative weight turns the maximized sum into no mean at all: with all
            # weights negative the result was the rotation farthest from the others)
            if is_concrete_array(w) and bool(fnp.any(w < 0)):
                raise ValueError(f"{_NAME}.mean: weights must be non-negative, as SciPy's")
            qw = fnp.multiply(q, w[..., None])
        else:
            qw = q
        k = fnp.sum(fnp.multiply(qw[..., :, None], q[..., None, :]), axis=axes)
        _, vecs = fnp.linalg.eigh(k)
        return Rotation(vecs[..., :, -1])

    def __mul__(self, other):
        """The composition: ``(self * other).apply(v) == self.apply(other.apply(v))``."""
        if not isinstance(other, Rotation):
            return NotImplemented
        return Rotation(_compose(self.quat, other.quat))

    def __getitem__(self, index):
        if self.single:
            raise TypeError(f"{_NAME}: a single rotation is not subscriptable")
        index = index + (Ellipsis,) if isinstance(index, tuple) else (index, Ellipsis)
        # (functrans.numpy's indexing: negative steps on torch, integer arrays everywhere)
        return Rotation(_getitem(self.quat, index))

    def __len__(self):
        if self.single:
            raise TypeError(f"{_NAME}: a single rotation has no len")
        return self.quat.shape[0]

    @property
    def single(self):
        """Whether this is one rotation (not an array of them)."""
        return self.quat.ndim == 1


_SLERP = "functrans.scipy.spatial.transform.Slerp"


@register_pytree_node_class
class Slerp:
    """Spherical linear interpolation of rotations (``scipy.spatial.transform.Slerp``,
    ``jax.scipy.spatial.transform.Slerp``): ``Slerp(times, rotations)`` (or JAX's
    ``Slerp.init(times, rotations)``) for at least two key rotations at increasing key
    times; calling it with times (a number or a 1-d array) gives the rotations between the
    keys, at constant angular velocity from one key to the next.

    Differentiable in the times asked for, the key times and the key rotations' quaternions,
    and a pytree (through ``jit``, ``vmap``, ``grad``). Where the key times or the times
    asked for are concrete arrays, SciPy's checks apply (key times strictly increasing, the
    times within the keys' range: ValueError); under a transform they cannot be read, and
    times outside the range extrapolate along the first or last segment, as JAX's."""

    def __init__(self, times, rotations):
        if not isinstance(rotations, Rotation):
            raise TypeError(f"{_SLERP}: rotations must be a Rotation; got "
                            f"{type(rotations).__name__}")
        if rotations.single or len(rotations) < 2:
            raise ValueError(f"{_SLERP}: rotations must hold at least 2 rotations")
        if rotations.quat.ndim != 2:
            raise ValueError(f"{_SLERP}: rotations must be a 1-d array of rotations; got "
                             f"quaternions of shape {tuple(rotations.quat.shape)}")
        times = _array(times)
        if times.dtype != rotations.quat.dtype:
            times = fnp.astype(times, rotations.quat.dtype)
        if times.ndim != 1 or times.shape[0] != len(rotations):
            raise ValueError(f"{_SLERP}: times must be 1-d with one time per rotation "
                             f"({len(rotations)}); got shape {tuple(times.shape)}")
        if is_concrete_array(times) and not bool(fnp.all(fnp.diff(times) > 0)):
            raise ValueError(f"{_SLERP}: times must be strictly increasing")
        self._set(times, rotations)

    def _set(self, times, rotations):
        self.times = times
        self.rotations = rotations
        # each segment's start and the rotation vector taking it to the next key
        self._starts = rotations[:-1]
        self._steps = (self._starts.inv() * rotations[1:]).as_rotvec()

    @classmethod
    def init(cls, times, rotations):
        """JAX's constructor: the same as ``Slerp(times, rotations)``."""
        return cls(times, rotations)

    def tree_flatten(self):
        return (self.times, self.rotations), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        self = object.__new__(cls)
        self._set(*children)
        return self

    def __repr__(self):
        return f"Slerp(times={self.times!r}, rotations={self.rotations!r})"

    def __call__(self, times):
        """The interpolated rotation(s) at ``times`` (a number: one rotation)."""
        if not hasattr(times, "shape"):  # Python data: in the key times' library
            times = fnp.asarray(times, like=self.times)
        t = _array(times)
        if t.ndim > 1:
            raise ValueError(f"{_SLERP}: times must be a number or 1-d; got shape "
                             f"{tuple(t.shape)}")
        single = t.ndim == 0
        t = fnp.reshape(t, (-1,))
        if is_concrete_array(t) and is_concrete_array(self.times) and t.shape[0] and (
                bool(fnp.any(t < self.times[0])) or bool(fnp.any(t > self.times[-1]))):
            raise ValueError(f"{_SLERP}: times must be within the key times' range "
                             f"[{float(self.times[0])}, {float(self.times[-1])}]")
        # the segment of each time: the last key before it (the first segment at the first key)
        seg = fnp.clip(fnp.searchsorted(fnp.stop_gradient(self.times),
                                        fnp.stop_gradient(t)) - 1, 0, self.times.shape[0] - 2)
        t0 = fnp.take(self.times, seg)
        alpha = fnp.divide(fnp.subtract(t, t0), fnp.subtract(fnp.take(self.times, seg + 1), t0))
        step = Rotation.from_rotvec(fnp.multiply(fnp.take(self._steps, seg, axis=0),
                                                 alpha[:, None]))
        out = Rotation(fnp.take(self._starts.quat, seg, axis=0)) * step
        return out[0] if single else out
