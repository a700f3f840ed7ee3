"""From whatever path a user has to a checkpoint prefix: files, directories, ``checkpoint`` files.

>>> latest_checkpoint("tests/data/checkpoints/tf2_object")
'tests/data/checkpoints/tf2_object/ckpt-1'
>>> resolve_prefix("tests/data/checkpoints/tf1_many_dtypes/model.ckpt.index")
'tests/data/checkpoints/tf1_many_dtypes/model.ckpt'

A checkpoint is a *prefix* ``P`` with files ``P.index`` and ``P.data-00000-of-00001`` (...).
Users hold ``P`` itself, either file, ``P.meta`` from a TF1 ``Saver``, or the directory whose
``checkpoint`` file (a text-format ``CheckpointState``) names the latest prefix.
"""

from __future__ import annotations

import os
import re
from typing import Optional, Union

from .._errors import CheckpointFormatError, CheckpointNotFoundError, UnsupportedCheckpointError

__all__ = ["resolve_prefix", "latest_checkpoint", "data_filename", "read_checkpoint_state"]

PathLike = Union[str, "os.PathLike[str]"]

_DATA_SUFFIX = re.compile(r"\.data-\d{5}-of-\d{5}$")
# One text-format field per line; TF also writes timestamps (numbers) that are skipped here.
_STATE_LINE = re.compile(r'^\s*(\w+)\s*:\s*(?:"(.*)"|([^"\s]+))\s*$')
_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.S)
_SIMPLE_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"a": b"\a", b"b": b"\b", b"f": b"\f",
                   b"v": b"\v"}
_TABLE_MAGIC = bytes.fromhex("57fb808b247547db")


def data_filename(prefix: str, shard_id: int, num_shards: int) -> str:
    """The data file of one shard, named as TF's ``DataFilename``.

    >>> data_filename("model.ckpt", 1, 2)
    'model.ckpt.data-00001-of-00002'
    """
    return f"{prefix}.data-{shard_id:05d}-of-{num_shards:05d}"


def _unescape(text: str) -> str:
    """Undoes the C escapes of a text-format proto string (TF writes UTF-8 as octal)."""
    def one(m: "re.Match[bytes]") -> bytes:
        if m.group(1):
            return bytes([int(m.group(1), 8) & 0xFF])
        if m.group(2):
            return bytes([int(m.group(2), 16)])
        return _SIMPLE_ESCAPES.get(m.group(3), m.group(3))
    return _ESCAPE.sub(one, text.encode("utf-8")).decode("utf-8", "surrogateescape")


def read_checkpoint_state(checkpoint_dir: str, latest_filename: Optional[str] = None
                          ) -> Optional[str]:
    """``model_checkpoint_path`` of a ``checkpoint`` file; ``None`` when there is no such file.

    A relative path is joined to ``checkpoint_dir``, as TF's ``get_checkpoint_state`` does; a file
    that names no path gives ``""``.

    >>> read_checkpoint_state("tests/data/checkpoints/tf2_object")
    'tests/data/checkpoints/tf2_object/ckpt-1'
    """
    state_path = os.path.join(checkpoint_dir, latest_filename or "checkpoint")
    try:
        with open(state_path, "rb") as f:
            raw = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise CheckpointNotFoundError.make(state_path, f"cannot read: {e.strerror}") from None
    latest = ""
    for number, line in enumerate(raw.decode("utf-8", "surrogateescape").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _STATE_LINE.match(line)
        if not match:
            raise CheckpointFormatError.make(
                state_path, f"line {number} is not a CheckpointState field: {line.strip()[:80]!r}",
                fix="the file should hold lines like model_checkpoint_path: \"model.ckpt-100\"; "
                    "fix or delete it, or pass the checkpoint prefix directly.")
        if match.group(1) == "model_checkpoint_path" and match.group(2) is not None:
            latest = _unescape(match.group(2))
            if not os.path.isabs(latest):
                latest = os.path.join(checkpoint_dir, latest)
    return latest


def _exists(prefix: str) -> bool:
    # TF's latest_checkpoint accepts a V2 index or a V1 single file.
    return os.path.isfile(prefix + ".index") or os.path.isfile(prefix)


def latest_checkpoint(checkpoint_dir: PathLike, latest_filename: Optional[str] = None
                      ) -> Optional[str]:
    """The prefix of the newest checkpoint in a directory, as ``tf.train.latest_checkpoint``.

    >>> latest_checkpoint("tests/data/checkpoints/tf2_object")
    'tests/data/checkpoints/tf2_object/ckpt-1'
    >>> latest_checkpoint("tests/data") is None      # no 'checkpoint' file
    True

    Args:
        checkpoint_dir: the directory holding the ``checkpoint`` file.
        latest_filename: another name for that file (TF's argument of the same name).

    Returns:
        ``model_checkpoint_path`` from the file, joined to ``checkpoint_dir`` when relative; or
        ``None`` when there is no such file, it names no checkpoint, or the named checkpoint's
        files do not exist (TF's answer for a stale absolute path left by a moved directory).

    Raises:
        CheckpointFormatError: the ``checkpoint`` file is not a text-format CheckpointState.
    """
    latest = read_checkpoint_state(os.fspath(checkpoint_dir), latest_filename)
    return latest if latest and _exists(latest) else None


def _directory_prefix(directory: str) -> str:
    latest = read_checkpoint_state(directory)
    if latest is None:
        raise CheckpointNotFoundError.make(
            directory, "directory has no 'checkpoint' file naming its latest checkpoint",
            fix="pass the checkpoint prefix itself (e.g. DIR/model.ckpt-1000).")
    if not latest:
        raise CheckpointNotFoundError.make(
            os.path.join(directory, "checkpoint"), "names no model_checkpoint_path")
    if _exists(latest):
        return latest
    moved = os.path.join(directory, os.path.basename(latest))
    hint = (f"a checkpoint of that name is in this directory: pass {moved}" if _exists(moved)
            else "pass an existing checkpoint prefix")
    raise CheckpointNotFoundError.make(
        os.path.join(directory, "checkpoint"),
        f"names {latest}, which does not exist (a stale path from a moved directory?)",
        fix=hint + ".")


def _looks_like_v1(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() < 48:
                return False
            f.seek(-8, os.SEEK_END)
            return f.read(8) == _TABLE_MAGIC
    except OSError:
        return False


def resolve_prefix(path: PathLike) -> str:
    """The checkpoint prefix for a prefix, ``.index``/``.data-*``/``.meta`` file or directory.

    >>> resolve_prefix("tests/data/checkpoints/tf2_object")
    'tests/data/checkpoints/tf2_object/ckpt-1'

    Raises:
        CheckpointNotFoundError: nothing usable at ``path``.
        UnsupportedCheckpointError: ``path`` is a TF V1 checkpoint (a single SSTable file).
    """
    text = os.fspath(path)
    if os.path.isdir(text):
        prefix = _directory_prefix(text)
    elif text.endswith(".index"):
        prefix = text[:-len(".index")]
    elif text.endswith(".meta"):
        prefix = text[:-len(".meta")]
    else:
        prefix = _DATA_SUFFIX.sub("", text)
    if os.path.isfile(prefix + ".index"):
        return prefix
    if os.path.isfile(prefix) and _looks_like_v1(prefix):
        raise UnsupportedCheckpointError.make(
            prefix, "this is a TensorFlow V1 checkpoint (one SSTable file, no .index); only the "
                    "V2 format (TF >= 0.12) is supported",
            fix="convert it once with TensorFlow: restore it with tf.compat.v1.train.Saver and "
                "save again (V2 is the default), then load the new prefix.")
    missing = text if text.endswith(".index") else prefix + ".index"
    raise CheckpointNotFoundError.make(missing, "no such checkpoint (its .index file is missing)")
