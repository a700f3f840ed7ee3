"""``CheckpointReader``: TensorFlow's checkpoint reader API, without TensorFlow.

>>> reader = load_checkpoint("tests/data/checkpoints/tf1_many_dtypes/model.ckpt")
>>> reader.get_tensor("global_step")
np.int64(42)
>>> reader.get_variable_to_shape_map()["bert/encoder/layer_0/attention/self/query/kernel"]
[16, 16]
>>> list_variables("tests/data/checkpoints/tf1_partitioned")
[('global_step', []), ('part/w', [7, 3])]

Values come back as TF's reader returns them: numpy arrays in native byte order, a numpy scalar
for a 0-d tensor, ``bytes`` for a 0-d string and an object array of ``bytes`` for other string
tensors; partitioned variables are reassembled from their slices. Every value is a fresh copy,
independent of the files. bfloat16: see :mod:`torchscope.checkpoint._dtypes`.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

import numpy as np

from .._errors import (CheckpointFormatError, TensorNotFoundError,
                       UnsupportedCheckpointError)
from . import _dtypes, _partitions, _tensors
from ._dtypes import DTYPES, STRING, DType, dtype_name
from ._paths import PathLike, resolve_prefix
from ._proto import BundleEntry, parse_entry, parse_header
from ._shards import DataShards
from ._slices import encode_slice_key, is_slice_key
from ._table import read_table

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["CheckpointReader", "load_checkpoint", "list_variables", "load_variable"]

_BUNDLE_VERSION = 1  # kTensorBundleVersion: the format version this reader understands


def _count(shape: Tuple[int, ...]) -> int:
    count = 1
    for dim in shape:
        count *= dim
    return count


class CheckpointReader:
    """Reads a TensorFlow V2 checkpoint (a tensor bundle): TF's ``CheckpointReader``, in numpy.

    >>> reader = CheckpointReader("tests/data/checkpoints/tf1_many_dtypes")   # a directory works
    >>> reader.has_tensor("bert/embeddings/word_embeddings")
    True
    >>> reader.get_variable_to_dtype_map()["bert/embeddings/word_embeddings"]
    dtype('float32')
    >>> t = reader.get_torch_tensor("bert/embeddings/word_embeddings")
    >>> t.shape, t.dtype
    (torch.Size([32, 16]), torch.float32)

    The index is read once, here; tensor data is read on each ``get_tensor`` call, straight into
    a fresh buffer (no file handles stay open).

    Args:
        path: a checkpoint prefix (``model.ckpt-1000``), its ``.index``, ``.data-*`` or ``.meta``
            file, or a directory whose ``checkpoint`` file names the latest checkpoint.
        verify: check each tensor's CRC32C (the default, as TF does). ``False`` skips it for
            speed; index blocks and string lengths are always checked.

    Raises:
        CheckpointNotFoundError: no checkpoint at ``path``.
        CheckpointFormatError: the index is malformed (its ``CheckpointChecksumError`` subclass
            when a block checksum fails).
        UnsupportedCheckpointError: a TF V1 checkpoint, or one from a newer bundle version.
    """

    def __init__(self, path: PathLike, verify: bool = True) -> None:
        self._prefix = resolve_prefix(path)
        self._index_path = self._prefix + ".index"
        self._verify = verify
        pairs = read_table(self._index_path)
        if not pairs or pairs[0][0] != b"":
            raise CheckpointFormatError.make(
                self._index_path, "the index has no bundle header entry (empty first key); "
                                  "not a TensorFlow V2 checkpoint index")
        header = parse_header(pairs[0][1], self._index_path)
        self._check_header(header.num_shards, header.min_consumer, header.bad_consumers)
        self._shards = DataShards(self._prefix, header.num_shards, self._index_path)
        self._big_endian = header.big_endian
        self._entries: Dict[str, BundleEntry] = {}
        self._slice_entries: Dict[bytes, BundleEntry] = {}
        for key, value in pairs[1:]:
            if is_slice_key(key):
                self._slice_entries[key] = parse_entry(value, self._index_path, repr(key))
            else:
                name = key.decode("utf-8", "surrogateescape")
                entry = parse_entry(value, self._index_path, name)
                self._check_shape(name, entry)
                self._entries[name] = entry

    # ---------------------------------------------------------------------------------------
    # TF's API

    def get_tensor(self, tensor_str: str) -> Any:
        """The value of one tensor, as TensorFlow's ``CheckpointReader.get_tensor`` returns it.

        >>> reader = CheckpointReader("tests/data/checkpoints/tf1_many_dtypes/model.ckpt")
        >>> reader.get_tensor("strings/vector")
        array([b'', b'\\x00\\xff', b'caf\\xc3\\xa9', b'plain'], dtype=object)

        Args:
            tensor_str: the tensor's name as stored (no ``:0`` suffix).

        Returns:
            A numpy array (a fresh copy, writable); a numpy scalar for a 0-d tensor; ``bytes`` for
            a 0-d string, an object array of ``bytes`` for other string tensors.

        Raises:
            TensorNotFoundError: no tensor of that name (the message lists similar names).
            CheckpointNotFoundError: its data shard is missing.
            CheckpointFormatError: its bytes are out of range or inconsistent with its shape.
            CheckpointChecksumError: its CRC32C does not match (with ``verify=True``).
            UnsupportedCheckpointError: its dtype has no numpy equivalent (variant, float8, ...).
        """
        entry = self._entry(tensor_str)
        storage = self._read(tensor_str, entry)
        if entry.dtype == STRING:
            return storage[()] if storage.ndim == 0 else storage
        return _tensors.to_numpy(storage, entry.dtype)

    def get_torch_tensor(self, tensor_str: str) -> "torch.Tensor":
        """One tensor as a writable ``torch.Tensor`` that owns its memory (no extra copy).

        >>> reader = CheckpointReader("tests/data/checkpoints/tf1_many_dtypes/model.ckpt")
        >>> reader.get_torch_tensor("dtypes/bfloat16").dtype
        torch.bfloat16

        bfloat16 is ``torch.bfloat16``, quantized types are their storage integers, unsigned
        types map to ``torch.uint16/32/64`` (few torch ops support those: convert with ``.to``).

        Raises:
            UnsupportedCheckpointError: a string tensor (torch has no string dtype) or a dtype
                with no numpy equivalent; plus everything :meth:`get_tensor` raises.
        """
        entry = self._entry(tensor_str)
        if entry.dtype == STRING:
            raise UnsupportedCheckpointError.make(
                self._index_path, f"tensor {tensor_str!r} holds strings; torch has no string dtype",
                fix="read it with get_tensor(), which returns bytes objects.")
        return _tensors.to_torch(self._read(tensor_str, entry), entry.dtype)

    def has_tensor(self, tensor_str: str) -> bool:
        """Whether the checkpoint holds a tensor of that name.

        >>> CheckpointReader("tests/data/checkpoints/tf1_sharded").has_tensor("global_step")
        True
        """
        return tensor_str in self._entries

    def get_variable_to_shape_map(self) -> Dict[str, List[int]]:
        """``{name: shape}`` for every tensor (partitioned variables with their full shape).

        >>> CheckpointReader("tests/data/checkpoints/tf1_partitioned").get_variable_to_shape_map()
        {'global_step': [], 'part/w': [7, 3]}
        """
        return {name: list(entry.shape) for name, entry in self._entries.items()}

    def get_variable_to_dtype_map(self) -> Dict[str, Optional[np.dtype]]:
        """``{name: numpy dtype}`` of the values :meth:`get_tensor` returns.

        >>> CheckpointReader("tests/data/checkpoints/tf1_partitioned").get_variable_to_dtype_map()
        {'global_step': dtype('int64'), 'part/w': dtype('float32')}

        Strings are ``dtype(object)``; bfloat16 is ``ml_dtypes.bfloat16`` when installed, else
        ``float32`` (what ``get_tensor`` then returns); ``None`` marks a dtype with no numpy
        equivalent (variant, float8, ...). TF's own names: :meth:`get_variable_to_dtype_name_map`.
        """
        return {name: (_dtypes.numpy_dtype(entry.dtype) if entry.dtype in DTYPES else None)
                for name, entry in self._entries.items()}

    def get_variable_to_dtype_name_map(self) -> Dict[str, str]:
        """``{name: TensorFlow dtype name}`` (``"float32"``, ``"bfloat16"``, ``"string"``, ...).

        >>> CheckpointReader("tests/data/checkpoints/tf1_many_dtypes")\\
        ...     .get_variable_to_dtype_name_map()["dtypes/bfloat16"]
        'bfloat16'
        """
        return {name: dtype_name(entry.dtype) for name, entry in self._entries.items()}

    # ---------------------------------------------------------------------------------------
    # Conveniences

    @property
    def prefix(self) -> str:
        """The checkpoint prefix the reader resolved ``path`` to.

        >>> CheckpointReader("tests/data/checkpoints/tf2_object").prefix
        'tests/data/checkpoints/tf2_object/ckpt-1'
        """
        return self._prefix

    def keys(self) -> List[str]:
        """Every tensor name, sorted as TensorFlow lists them (slice entries hidden).

        >>> CheckpointReader("tests/data/checkpoints/tf1_partitioned").keys()
        ['global_step', 'part/w']
        """
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"CheckpointReader({self._prefix!r}, {len(self._entries)} tensors)"

    def stored_bytes(self, tensor_str: str) -> int:
        """Bytes the tensor occupies in the data files (its slices' sum when partitioned).

        >>> CheckpointReader("tests/data/checkpoints/tf1_partitioned").stored_bytes("part/w")
        84
        """
        entry = self._entry(tensor_str)
        if not entry.slices:
            return entry.size
        keys = (encode_slice_key(tensor_str, extents) for extents in entry.slices)
        return sum(self._slice_entries[k].size for k in keys if k in self._slice_entries)

    # ---------------------------------------------------------------------------------------
    # Internals

    def _check_header(self, num_shards: int, min_consumer: int, bad: Tuple[int, ...]) -> None:
        if num_shards < 1:
            raise CheckpointFormatError.make(
                self._index_path, f"the bundle header says {num_shards} data shards")
        if min_consumer > _BUNDLE_VERSION or _BUNDLE_VERSION in bad:
            raise UnsupportedCheckpointError.make(
                self._index_path, f"written for bundle readers of version >= {min_consumer} "
                                  f"(excluding {list(bad)}); this reader is version "
                                  f"{_BUNDLE_VERSION}",
                fix="re-save the checkpoint with an older TensorFlow, or report the version.")

    def _check_shape(self, name: str, entry: BundleEntry) -> None:
        if entry.unknown_rank or any(dim < 0 for dim in entry.shape):
            raise CheckpointFormatError.make(
                self._index_path, f"tensor {name!r} has an undefined shape {list(entry.shape)}"
                                  f"{' (unknown rank)' if entry.unknown_rank else ''}")

    def _dtype(self, code: int, label: str) -> DType:
        if code in DTYPES:
            return DTYPES[code]
        what = (f"dtype {dtype_name(code)!r}, which has no numpy equivalent"
                if code in _dtypes.UNSUPPORTED else
                f"unknown dtype code {code} (from a newer TensorFlow, or corrupt)")
        raise UnsupportedCheckpointError.make(
            self._index_path, f"tensor {label} has {what}",
            fix="skip this tensor (TF2 checkpoints can hold iterator state as 'variant'); "
                "every other tensor reads normally.")

    def _entry(self, name: str) -> BundleEntry:
        entry = self._entries.get(name)
        if entry is None:
            raise TensorNotFoundError.make(self._index_path, name, self._similar(name))
        return entry

    def _similar(self, name: str) -> List[str]:
        close = []
        if name.endswith(":0") and name[:-2] in self._entries:
            close.append(name[:-2])
        close += [n for n in difflib.get_close_matches(name, self._entries, n=3) if n not in close]
        return close

    def _read(self, name: str, entry: BundleEntry) -> np.ndarray:
        """The storage array of a tensor (bfloat16 as uint16 bits), whole or reassembled."""
        if not entry.slices:
            return self._read_entry(entry, repr(name))
        dtype = self._dtype(entry.dtype, repr(name))
        pieces = _partitions.plan(name, entry, self._slice_entries, self._index_path)
        return _partitions.assemble(name, entry.shape, dtype, pieces, self._read_entry,
                                    self._index_path)

    def _read_entry(self, entry: BundleEntry, label: str) -> np.ndarray:
        dtype = self._dtype(entry.dtype, label)
        count = _count(entry.shape)
        if dtype.storage is None:  # strings: at least one length byte per element
            if count > entry.size:
                raise CheckpointFormatError.make(
                    self._index_path, f"string tensor {label} has {count} elements but only "
                                      f"{entry.size} bytes")
            raw = self._shards.read(entry, label, check_crc=False)
            strings = _tensors.decode_strings(raw, count, self._big_endian, entry.crc32c,
                                              self._verify, self._shards.path(entry.shard_id),
                                              label)
            return _tensors.string_array(strings, entry.shape)
        expected = count * dtype.storage.itemsize
        if entry.size != expected:
            raise CheckpointFormatError.make(
                self._index_path, f"tensor {label} is {dtype.name}{list(entry.shape)}, which "
                                  f"takes {expected} bytes, but its entry says {entry.size}")
        raw = self._shards.read(entry, label, check_crc=self._verify)
        return _tensors.decode_numeric(raw, dtype, entry.shape, self._big_endian)


def load_checkpoint(ckpt_dir_or_file: PathLike, verify: bool = True) -> CheckpointReader:
    """Opens a checkpoint, as ``tf.train.load_checkpoint``.

    >>> load_checkpoint("tests/data/checkpoints/tf2_object")
    CheckpointReader('tests/data/checkpoints/tf2_object/ckpt-1', 6 tensors)

    Args:
        ckpt_dir_or_file: a prefix, one of its files, or a directory with a ``checkpoint`` file.
        verify: check tensor CRC32Cs when reading (see :class:`CheckpointReader`).

    Raises:
        CheckpointNotFoundError, CheckpointFormatError, UnsupportedCheckpointError: as
        :class:`CheckpointReader`.
    """
    return CheckpointReader(ckpt_dir_or_file, verify=verify)


def list_variables(ckpt_dir_or_file: PathLike) -> List[Tuple[str, List[int]]]:
    """``[(name, shape), ...]`` sorted by name, as ``tf.train.list_variables``.

    >>> list_variables("tests/data/checkpoints/tf1_sharded")[:2]
    [('global_step', []), ('tower_0/b', [3])]

    Partitioned variables appear once, with their full shape; slice entries are hidden.

    Raises:
        CheckpointNotFoundError, CheckpointFormatError, UnsupportedCheckpointError: as
        :class:`CheckpointReader`.
    """
    reader = CheckpointReader(ckpt_dir_or_file)
    shapes = reader.get_variable_to_shape_map()
    return [(name, shapes[name]) for name in sorted(shapes)]


def load_variable(ckpt_dir_or_file: PathLike, name: str) -> Any:
    """One tensor's value, as ``tf.train.load_variable`` (a trailing ``:0`` is ignored, as in TF).

    >>> load_variable("tests/data/checkpoints/tf1_many_dtypes", "global_step:0")
    np.int64(42)

    Raises:
        TensorNotFoundError: no such tensor; plus what :class:`CheckpointReader` raises.
    """
    if name.endswith(":0"):
        name = name[:-2]
    return CheckpointReader(ckpt_dir_or_file).get_tensor(name)
