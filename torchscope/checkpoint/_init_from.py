"""``init_from_checkpoint``: load a TF checkpoint into a store's variables by name.

TF1's ``tf.compat.v1.train.init_from_checkpoint`` with its assignment-map rules, in place and
all-or-nothing: the whole map is resolved and every tensor read and checked before the first
variable is written, so a failure (a missing tensor, a shape mismatch, a corrupt file) leaves
every variable untouched. Layouts are TF's (dense kernels ``[in, out]``, conv kernels HWIO),
which ``ts.layers`` use too, so nothing is transposed.

Example:
    >>> import torchscope as ts
    >>> store = ts.ScopedParameterStore()
    >>> with store.as_default():
    ...     w = ts.get_variable("part/w", [7, 3])
    ...     step = ts.get_variable("global_step", [], dtype="int64", trainable=False)
    >>> loaded = ts.checkpoint.init_from_checkpoint(
    ...     "tests/data/checkpoints/tf1_partitioned", {"part/": "part/"}, store=store)
    >>> loaded
    {'part/w': 'part/w'}
    >>> bool((w == ts.checkpoint.load_variable("tests/data/checkpoints/tf1_partitioned",
    ...                                        "part/w")).all())
    True
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Mapping, Sequence, Tuple, Union

import torch

from .._errors import AssignmentMapError
from .._record import Record
from .._store import ScopedParameterStore, get_default_store
from .._types import dtype_name, is_compatible, shape_str
from ._reader import CheckpointReader, load_checkpoint

__all__ = ["OPTIMIZER_SLOT_PATTERN", "init_from_checkpoint"]

OPTIMIZER_SLOT_PATTERN = re.compile(
    r"(^|/)(adam_[mv]|Adam(_\d+)?|Momentum|RMSProp(_\d+)?|Adagrad|Ftrl(_\d+)?|"
    r"AdamWeightDecayOptimizer(_\d+)?|ExponentialMovingAverage)(/|$)"
    r"|(^|/)(global_step|beta[12]_power|save_counter)$"
    r"|\.OPTIMIZER_SLOT/")
"""Names of optimizer state and counters, not model weights (TF1 Saver and TF2 spellings)."""


def _store_of(store: Any) -> ScopedParameterStore:
    if store is None:
        return get_default_store()
    if isinstance(store, ScopedParameterStore):
        return store
    inner = getattr(store, "_ts_store", None)      # a ScopedModule
    if isinstance(inner, ScopedParameterStore):
        return inner
    raise AssignmentMapError.make(
        f"store must be a ScopedParameterStore or a ScopedModule, got {type(store).__name__}.",
        fix="pass store=model.store (or nothing, for the default store).")


def _scope_targets(store: ScopedParameterStore, ckpt_name: str, target: str,
                   skip_slots: bool) -> List[Tuple[str, Record]]:
    """TF1's scope-to-scope rule: every store variable under ``target``'s scope, renamed."""
    scopes = target[:target.rindex("/")] if "/" in target else ""
    if not ckpt_name.endswith("/"):
        raise AssignmentMapError.make(
            f"Assignment map with scope only name {scopes} should map to scope only "
            f"{ckpt_name}. Should be 'scope/': 'other_scope/'.",
            why=f"{target!r} is neither a variable of the store nor a scope ending in '/'.",
            fix="map a checkpoint scope to a store scope ('ckpt/': 'model/'), or name one "
                "variable on each side.")
    pairs = []
    for name in sorted(store._registry):
        if scopes and not name.startswith(scopes + "/"):
            continue
        if skip_slots and OPTIMIZER_SLOT_PATTERN.search(name):
            continue
        tensor_name = name[len(scopes):]
        if target != "/":
            tensor_name = tensor_name[1:]
        if ckpt_name != "/":
            tensor_name = ckpt_name + tensor_name
        if tensor_name.endswith("/"):
            tensor_name = tensor_name[:-1]
        pairs.append((tensor_name, store._registry[name]))
    return pairs


def _resolve(store: ScopedParameterStore, reader: CheckpointReader, path: str,
             assignment_map: Union[Mapping[str, Any], Sequence[Tuple[str, Any]]],
             skip_slots: bool) -> List[Tuple[str, Record]]:
    items = assignment_map.items() if isinstance(assignment_map, Mapping) else assignment_map
    pairs: List[Tuple[str, Record]] = []
    for ckpt_name, target in sorted(items, key=lambda pair: pair[0]):
        record = None
        if isinstance(target, torch.Tensor):
            record = store.record_of(target)
            if record is None:
                raise AssignmentMapError.make(
                    f"The tensor mapped from {ckpt_name!r} is not a variable of this store.",
                    fix="pass the parameter ts.get_variable returned, its name, or store=...")
        elif isinstance(target, str):
            record = store._registry.get(target)
        else:
            raise AssignmentMapError.make(
                f"Assignment map values must be variable names, scopes or variables; got "
                f"{type(target).__name__} for {ckpt_name!r}.",
                fix="use {'ckpt_scope/': 'scope/'} or {'ckpt/name': 'name'}.")
        if record is not None:
            pairs.append((ckpt_name, record))
        else:
            pairs.extend(_scope_targets(store, ckpt_name, target, skip_slots))
    shapes = reader.get_variable_to_shape_map()
    for ckpt_name, record in pairs:
        if ckpt_name not in shapes:
            close = [n for n in shapes if n.rsplit("/", 1)[-1] == ckpt_name.rsplit("/", 1)[-1]]
            raise AssignmentMapError.make(
                f"Tensor {ckpt_name} is not found in {path} checkpoint (wanted for variable "
                f"{record.display}).",
                why=("Tensors with that last name component: " + ", ".join(close[:5]))
                if close else "",
                fix="list the checkpoint's names with ts.checkpoint.list_variables(path) and "
                    "adjust the assignment map.")
        if not is_compatible(record.shape, tuple(shapes[ckpt_name])):
            raise AssignmentMapError.make(
                f"Shape of variable {record.display} ({shape_str(record.shape)}) doesn't match "
                f"with shape of tensor {ckpt_name} ({shape_str(tuple(shapes[ckpt_name]))}) from "
                "checkpoint reader.",
                fix="map the variable to a tensor of its shape (TF layouts: dense kernels "
                    "[in, out], conv kernels HWIO).")
    return pairs


def init_from_checkpoint(ckpt_dir_or_file: Union[str, os.PathLike],
                         assignment_map: Union[Mapping[str, Any], Sequence[Tuple[str, Any]]],
                         store: Any = None, *, skip_optimizer_slots: bool = True,
                         verify: bool = True) -> Dict[str, str]:
    """Overwrites variables in place with tensors from a TF checkpoint (TF1's rules).

    Assignment map entries (checkpoint name → store name), applied in sorted key order:

    * ``'ckpt_scope/': 'scope/'`` — every store variable under ``scope/`` from the tensor with the
      same relative name under ``ckpt_scope/``;
    * ``'/': 'scope/'`` and ``'ckpt_scope/': '/'`` — the checkpoint's root / the store's root;
    * ``'ckpt/name': 'name'`` — one variable (a ``get_variable`` name);
    * ``'ckpt/name': variable`` — one variable object (a parameter of the store).

    Args:
        ckpt_dir_or_file: a checkpoint prefix, its ``.index``, or a directory with a
            ``checkpoint`` file.
        assignment_map: the mapping (or a list of pairs).
        store: the store (or a ``ScopedModule``, meaning its store); default: the default store.
        skip_optimizer_slots: in scope mappings, leave out store variables that are optimizer
            state or counters (names matching :data:`OPTIMIZER_SLOT_PATTERN`: ``adam_m``,
            ``Adam_1``, ``Momentum``, ``global_step``, ``beta1_power``, ...).
        verify: check the checkpoint's CRC32C checksums.

    Returns:
        ``{variable name: checkpoint tensor name}`` for every variable written.

    Raises:
        AssignmentMapError: a tensor missing from the checkpoint, a shape or dtype mismatch, a
            scope mapped to a name, or a target that is not a variable of the store.
        CheckpointNotFoundError, CheckpointFormatError: the checkpoint cannot be read.
        Nothing is written when any of these is raised.
    """
    target_store = _store_of(store)
    path = os.fspath(ckpt_dir_or_file)
    reader = load_checkpoint(path, verify=verify)
    pairs = _resolve(target_store, reader, path, assignment_map, skip_optimizer_slots)
    values = []
    for ckpt_name, record in pairs:
        value = reader.get_torch_tensor(ckpt_name)
        if value.dtype != record.dtype:
            raise AssignmentMapError.make(
                f"Tensor {ckpt_name} in {path} has dtype {dtype_name(value.dtype)}, variable "
                f"{record.display} has dtype {dtype_name(record.dtype)}.",
                why="TF1 restores a variable only from a tensor of its own dtype.",
                fix=f"create the variable with dtype={dtype_name(value.dtype)}, or convert the "
                    "checkpoint.")
        values.append((record, value.reshape(record.param.shape)))
    with torch.no_grad():
        for record, value in values:
            record.param.copy_(value)
    return {record.display: ckpt_name for (ckpt_name, record) in pairs}
