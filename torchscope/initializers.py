"""TF-exact initializers: TF's fan rules, TF's truncated normal, TF1's argument names.

Every initializer is called as ``init(shape, dtype=None, partition_info=None)`` and returns a new
tensor on the current default device. Fans follow TF's ``_compute_fans`` on the TF-logical shape:
a scalar has fans 1/1, a vector n/n, a matrix ``[in, out]``, and a kernel ``[*spatial, in, out]``
(HWIO) uses its last two dims times the receptive field — not ``torch.nn.init``'s rules, which
read ``[out, in, *spatial]``. Truncated normals are re-drawn outside ±2σ, as TF does; variance
scaling divides σ by 0.8796 to compensate, TF1's plain ``truncated_normal_initializer`` does not.

Example:
    >>> import torch, torchscope as ts
    >>> w = ts.initializers.glorot_uniform(seed=1)([3, 3, 8, 16])
    >>> bool(w.abs().max() <= (6 / (72 + 144)) ** 0.5)          # fans 72 / 144, as in TF
    True
    >>> ts.initializers.constant([1, 2])([2, 3]).tolist()         # TF1 pads with the last value
    [[1.0, 2.0, 2.0], [2.0, 2.0, 2.0]]

Random initializers take TF's ``seed``: with a seed, every call draws the same values (on the CPU,
then moved); without one, the global torch RNG is used.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np
import torch

from ._errors import InitializerError, InitializerTypeError
from ._types import DTypeLike, as_dtype

__all__ = [
    "Constant", "GlorotNormal", "GlorotUniform", "Identity", "Initializer", "Ones", "Orthogonal",
    "RandomNormal", "RandomUniform", "TruncatedNormal", "UniformUnitScaling", "VarianceScaling",
    "Zeros", "compute_fans", "constant", "glorot_normal", "glorot_uniform", "he_normal",
    "he_uniform", "identity", "lecun_normal", "lecun_uniform", "ones", "orthogonal",
    "random_normal", "random_uniform", "truncated_normal", "uniform_unit_scaling",
    "variance_scaling", "xavier_normal", "xavier_uniform", "zeros",
]

_TRUNCATED_STD = 0.87962566103423978  # std of a unit normal truncated to ±2
# The default dtype, taken as is: TF1 code makes initializers inside its layers, so in every
# ScopedModule pass, and ``as_dtype`` there costs a call (and, under torch.compile, the guards
# on as_dtype and what it reads) for nothing.
_FLOAT32 = torch.float32


def compute_fans(shape: Sequence[int]) -> Tuple[int, int]:
    """TF's ``_compute_fans``: ``(fan_in, fan_out)`` of a TF-layout shape.

    Example:
        >>> compute_fans([]), compute_fans([50]), compute_fans([20, 30]), compute_fans([3, 3, 8, 16])
        ((1, 1), (50, 50), (20, 30), (72, 144))
    """
    shape = list(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = int(np.prod(shape[:-2]))
    return int(shape[-2] * receptive), int(shape[-1] * receptive)


def _filled(factory: Callable[..., torch.Tensor], shape: Sequence[int],
            dtype: torch.dtype) -> torch.Tensor:
    """``factory(shape, dtype=dtype)`` on the default device. The sizes go as separate
    arguments: torch parses ``empty(4, 4)`` about a microsecond faster than ``empty((4, 4))``,
    which is half the cost of drawing a small variable."""
    return factory(*shape, dtype=dtype) if len(shape) else factory((), dtype=dtype)


class Initializer:
    """Base class: ``__call__(shape, dtype=None, partition_info=None) -> Tensor``."""

    dtype: torch.dtype = torch.float32
    seed: Optional[int] = None

    def __call__(self, shape: Sequence[int], dtype: DTypeLike = None,
                 partition_info: Any = None) -> torch.Tensor:
        raise NotImplementedError

    def _dtype(self, dtype: DTypeLike) -> torch.dtype:
        return self.dtype if dtype is None else as_dtype(dtype)

    def _generator(self) -> Optional[torch.Generator]:
        return None if self.seed is None else torch.Generator().manual_seed(int(self.seed))

    def _empty(self, shape: Sequence[int], dtype: torch.dtype) -> Tuple[torch.Tensor, Any]:
        """An empty tensor to sample into: on the CPU with a seeded generator, else on the
        default device (where ``torch.empty`` puts it; asking ``torch.get_default_device()``
        costs more than the draw of a small variable)."""
        generator = self._generator()
        if generator is None:
            return _filled(torch.empty, shape, dtype), None
        return torch.empty(list(shape), dtype=dtype, device="cpu"), generator

    def get_config(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _done(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.to(torch.get_default_device())


def _placed(tensor: torch.Tensor, generator: Optional[torch.Generator]) -> torch.Tensor:
    """A sample on the default device: seeded draws were made on the CPU and are moved."""
    return tensor if generator is None else _done(tensor)


def _float_dtype(dtype: DTypeLike) -> torch.dtype:
    """TF1's ``_assert_float_dtype``: these distributions only make sense for floating dtypes
    (drawing them into an int variable would truncate silently or fail deep inside torch).

    Raises:
        InitializerError: a non-floating dtype.
    """
    if dtype is _FLOAT32:
        return dtype
    dtype = as_dtype(dtype)
    if not dtype.is_floating_point:
        raise InitializerError.bad_argument(
            "Argument `dtype` is expected to be floating point. Received: "
            f"<dtype: '{str(dtype).replace('torch.', '')}'>.",
            fix="pass a floating dtype, or ts.zeros_initializer() / ts.constant_initializer() "
                "for integer variables.")
    return dtype


class Zeros(Initializer):
    """All zeros (``False`` for bool). TF1: ``zeros_initializer``."""

    def __init__(self, dtype: DTypeLike = torch.float32) -> None:
        self.dtype = dtype if dtype is _FLOAT32 else as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return _filled(torch.zeros, shape, self._dtype(dtype))


class Ones(Initializer):
    """All ones. TF1: ``ones_initializer``."""

    def __init__(self, dtype: DTypeLike = torch.float32) -> None:
        self.dtype = dtype if dtype is _FLOAT32 else as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return _filled(torch.ones, shape, self._dtype(dtype))


class Constant(Initializer):
    """A constant, with TF1's fill rule: a scalar broadcasts; a shorter list is padded with its
    last value; a longer one is an error. TF1: ``constant_initializer``.

    Raises:
        InitializerError: more values than the shape holds.
        InitializerTypeError: (``verify_shape``) a value whose
            shape is not the variable's.
    """

    def __init__(self, value: Any = 0, dtype: DTypeLike = torch.float32,
                 verify_shape: bool = False) -> None:
        self.value = value
        self.dtype = dtype if dtype is _FLOAT32 else as_dtype(dtype)
        self.verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype)
        shape = list(shape)
        value = self.value
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        flat = np.asarray(value).reshape(-1)
        size = int(np.prod(shape)) if shape else 1
        if self.verify_shape and list(np.shape(value)) != shape:
            raise InitializerTypeError.bad_argument(
                f"Expected Tensor's shape: {tuple(shape)}, got {np.shape(value)}.",
                fix="pass a value of the variable's shape, or verify_shape=False.")
        if flat.size > size:
            raise InitializerError.bad_argument(
                f"Too many elements provided. Takes at most {size}, but got {flat.size}.",
                fix="pass at most as many values as the variable holds.")
        if flat.size == 0:
            raise InitializerError.bad_argument(
                "constant_initializer got no value.", fix="pass a number or a list of numbers.")
        if flat.size < size:
            flat = np.concatenate([flat, np.full(size - flat.size, flat[-1])])
        return _done(torch.as_tensor(flat.reshape(shape)).to(dtype))


class RandomUniform(Initializer):
    """Uniform on ``[minval, maxval)``; ``maxval=None`` means 1 for floats (TF1's default).
    TF1: ``random_uniform_initializer``."""

    def __init__(self, minval: float = 0, maxval: Optional[float] = None,
                 seed: Optional[int] = None, dtype: DTypeLike = torch.float32) -> None:
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = dtype if dtype is _FLOAT32 else as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype)
        out, gen = self._empty(shape, dtype)
        if dtype.is_floating_point:
            maxval = 1.0 if self.maxval is None else self.maxval
            return _placed(out.uniform_(self.minval, maxval, generator=gen), gen)
        if self.maxval is None:
            raise InitializerError.bad_argument(
                "Must specify maxval for integer dtype.", fix="pass maxval=... for int dtypes.")
        return _placed(out.random_(int(self.minval), int(self.maxval), generator=gen), gen)


class RandomNormal(Initializer):
    """Normal with ``mean``, ``stddev``. TF1: ``random_normal_initializer``."""

    def __init__(self, mean: float = 0.0, stddev: float = 1.0, seed: Optional[int] = None,
                 dtype: DTypeLike = torch.float32) -> None:
        self.mean, self.stddev, self.seed, self.dtype = mean, stddev, seed, _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        out, gen = self._empty(shape, _float_dtype(self._dtype(dtype)))
        return _placed(out.normal_(self.mean, self.stddev, generator=gen), gen)


def _truncated(out: torch.Tensor, mean: float, stddev: float,
               generator: Optional[torch.Generator]) -> torch.Tensor:
    """TF's truncated normal: draws outside ±2σ are discarded and drawn again."""
    if out.is_meta:   # no data to draw (a model built on "meta" for to_empty() later)
        return out
    work = out if out.dtype in (torch.float32, torch.float64) else torch.empty(
        out.shape, dtype=torch.float32, device=out.device)
    work.normal_(generator=generator)
    bad = work.abs() > 2
    while bool(bad.any()):
        count = int(bad.sum())
        fresh = torch.empty(count, dtype=work.dtype, device=work.device).normal_(generator=generator)
        work[bad] = fresh
        bad = work.abs() > 2
    work.mul_(stddev).add_(mean)
    if work is not out:
        out.copy_(work)
    return out


class TruncatedNormal(Initializer):
    """Normal with ``mean``, ``stddev``, re-drawn outside ``mean ± 2·stddev`` (the resulting std
    is 0.88·stddev, as in TF1). TF1: ``truncated_normal_initializer``."""

    def __init__(self, mean: float = 0.0, stddev: float = 1.0, seed: Optional[int] = None,
                 dtype: DTypeLike = torch.float32) -> None:
        self.mean, self.stddev, self.seed, self.dtype = mean, stddev, seed, _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        out, gen = self._empty(shape, _float_dtype(self._dtype(dtype)))
        return _placed(_truncated(out, self.mean, self.stddev, gen), gen)


class VarianceScaling(Initializer):
    """TF's ``VarianceScaling``: ``scale / fan`` with TF's fans (of the full shape for shards).

    ``distribution``: ``"truncated_normal"`` (alias ``"normal"``; σ = √(scale)/0.8796, cut at
    ±2σ), ``"untruncated_normal"`` or ``"uniform"`` (limit √(3·scale)).
    TF1: ``variance_scaling_initializer``.

    Raises:
        InitializerError: a non-positive scale, an unknown mode or distribution.
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("normal", "uniform", "truncated_normal", "untruncated_normal")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: Optional[int] = None,
                 dtype: DTypeLike = torch.float32) -> None:
        if scale <= 0.0:
            raise InitializerError.bad_argument(
                f"Argument `scale` must be a positive float. Received: {scale}",
                fix="pass scale > 0.")
        mode = mode.lower()
        if mode not in self._MODES:
            raise InitializerError.bad_argument(
                f"Argument `mode` should be one of {self._MODES}. Received: {mode}",
                fix="pass mode='fan_in', 'fan_out' or 'fan_avg'.")
        distribution = distribution.lower()
        if distribution not in self._DISTRIBUTIONS:
            raise InitializerError.bad_argument(
                f"Argument `distribution` should be one of {self._DISTRIBUTIONS}. "
                f"Received: {distribution}", fix="pass distribution='truncated_normal', "
                "'untruncated_normal' or 'uniform'.")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.seed, self.dtype = seed, _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        # float32 is every default; the check is for the rest (this runs per variable built)
        dtype = self.dtype if dtype is None else dtype
        if dtype is not torch.float32:
            dtype = _float_dtype(dtype)
        full = shape if partition_info is None else partition_info.full_shape
        kind, spread = _variance_scaling(self.scale, self.mode, self.distribution,
                                         full if full.__class__ is tuple else tuple(full))
        out, gen = self._empty(shape, dtype)
        if kind == "uniform":
            return _placed(out.uniform_(-spread, spread, generator=gen), gen)
        if kind == "normal":
            return _placed(out.normal_(0.0, spread, generator=gen), gen)
        return _placed(_truncated(out, 0.0, spread, gen), gen)


@functools.lru_cache(maxsize=1024)
def _variance_scaling(scale: float, mode: str, distribution: str,
                      full_shape: Tuple[int, ...]) -> Tuple[str, float]:
    """``VarianceScaling``'s draw for a shape: ``("uniform", limit)``, ``("normal", σ)`` or
    ``("truncated", σ)``. Memoised: a network asks for the same few shapes again and again, and
    this runs for every variable built."""
    fan_in, fan_out = compute_fans(full_shape)
    fan = fan_in if mode == "fan_in" else fan_out if mode == "fan_out" else (
        (fan_in + fan_out) / 2.0)
    scale = scale / max(1.0, fan)
    if distribution in ("normal", "truncated_normal"):
        return "truncated", math.sqrt(scale) / _TRUNCATED_STD
    if distribution == "untruncated_normal":
        return "normal", math.sqrt(scale)
    return "uniform", math.sqrt(3.0 * scale)


class GlorotUniform(VarianceScaling):
    """Uniform in ±√(6 / (fan_in + fan_out)). TF1: ``glorot_uniform_initializer`` (the default
    for floating variables)."""

    def __init__(self, seed: Optional[int] = None, dtype: DTypeLike = torch.float32) -> None:
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)


class GlorotNormal(VarianceScaling):
    """Truncated normal with σ² = 2 / (fan_in + fan_out). TF1: ``glorot_normal_initializer``."""

    def __init__(self, seed: Optional[int] = None, dtype: DTypeLike = torch.float32) -> None:
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)


class UniformUnitScaling(Initializer):
    """TF1's ``uniform_unit_scaling_initializer``: limit ``factor·√(3 / prod(shape[:-1]))``."""

    def __init__(self, factor: float = 1.0, seed: Optional[int] = None,
                 dtype: DTypeLike = torch.float32) -> None:
        self.factor, self.seed, self.dtype = factor, seed, _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        full = partition_info.full_shape if partition_info is not None else shape
        input_size = max(int(np.prod(list(full)[:-1])) if len(full) else 1, 1)
        limit = self.factor * math.sqrt(3.0 / input_size)
        out, gen = self._empty(shape, _float_dtype(self._dtype(dtype)))
        return _placed(out.uniform_(-limit, limit, generator=gen), gen)


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``, over ``prod(shape[:-1]) × shape[-1]``, as TF.
    TF1: ``orthogonal_initializer``.

    Raises:
        InitializerError: a shape of rank < 2.
    """

    def __init__(self, gain: float = 1.0, seed: Optional[int] = None,
                 dtype: DTypeLike = torch.float32) -> None:
        self.gain, self.seed, self.dtype = gain, seed, _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        shape = list(shape)
        if len(shape) < 2:
            raise InitializerError.bad_argument(
                "The tensor to initialize must be at least two-dimensional",
                fix="use orthogonal initialization for matrices and kernels only.")
        dtype = _float_dtype(self._dtype(dtype))
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        flat, gen = self._empty((max(rows, cols), min(rows, cols)), torch.float64)
        flat.normal_(generator=gen)
        q, r = torch.linalg.qr(flat)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return _placed((self.gain * q).reshape(shape).to(dtype), gen)


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only). TF1: ``identity_initializer``."""

    def __init__(self, gain: float = 1.0, dtype: DTypeLike = torch.float32) -> None:
        self.gain, self.dtype = gain, _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        full = list(partition_info.full_shape if partition_info is not None else shape)
        if len(full) != 2:
            raise InitializerError.bad_argument(
                "Identity matrix initializer can only be used for 2D matrices.",
                fix="use it for [in, out] kernels only.")
        eye = self.gain * torch.eye(*full, dtype=self._dtype(dtype))
        if partition_info is not None:   # TF1 slices the shard out of the full identity
            (row, col), (rows, cols) = partition_info.var_offset, list(shape)
            eye = eye[row:row + rows, col:col + cols]
        return eye


# Factories with TF2/Keras spellings. Each returns an initializer object.
zeros = Zeros
ones = Ones
constant = Constant
random_uniform = RandomUniform
random_normal = RandomNormal
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = xavier_uniform = GlorotUniform
glorot_normal = xavier_normal = GlorotNormal
orthogonal = Orthogonal
identity = Identity
uniform_unit_scaling = UniformUnitScaling


def he_normal(seed: Optional[int] = None) -> VarianceScaling:
    """Truncated normal, σ² = 2 / fan_in (Keras ``he_normal``)."""
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed: Optional[int] = None) -> VarianceScaling:
    """Uniform in ±√(6 / fan_in)."""
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed: Optional[int] = None) -> VarianceScaling:
    """Truncated normal, σ² = 1 / fan_in."""
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed: Optional[int] = None) -> VarianceScaling:
    """Uniform in ±√(3 / fan_in)."""
    return VarianceScaling(1.0, "fan_in", "uniform", seed)
