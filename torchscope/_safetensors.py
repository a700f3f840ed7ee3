"""Saving shared parameters once: safetensors files with an alias table.

``safetensors.torch.save_file(model.state_dict())`` refuses a model with tied parameters (two
keys, one storage). :func:`save_safetensors` writes each distinct tensor once, under the first of
its ``state_dict`` keys, and records every other key as an alias in the file's metadata
(``metadata[alias] = kept``: the convention of ``safetensors.torch.save_model``, so
``safetensors.torch.load_model`` reads these files too). :func:`load_safetensors` expands the
aliases and loads in place, so ties and optimizer references survive.

``safetensors`` is an optional dependency: ``pip install torchscope[safetensors]``.

Example:
    >>> import os, tempfile, torch, torchscope as ts
    >>> from torch import nn
    >>> store = ts.ScopedParameterStore()
    >>> def tower(reuse):
    ...     def fn(x):
    ...         with ts.variable_scope("tower", reuse=reuse):
    ...             return x @ ts.get_variable("w", [2, 2])
    ...     return ts.ScopedModule.wrap(fn, store=store)
    >>> model = nn.ModuleDict({"a": tower(False), "b": tower(True)})
    >>> _ = model["a"](torch.ones(1, 2)), model["b"](torch.ones(1, 2))
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> ts.save_safetensors(model, path)
    {'b.tower/w': 'a.tower/w'}
    >>> ts.load_safetensors(model, path)
    >>> model["a"].get_parameter("tower/w") is model["b"].get_parameter("tower/w")
    True
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Union

import torch
from torch import nn

from ._errors import StateDictError
from ._store import ScopedParameterStore

__all__ = ["load_safetensors", "save_safetensors"]

_ALIAS_KEY = "torchscope.aliases"


def _safetensors() -> Any:
    try:
        import safetensors.torch
    except ImportError:
        raise StateDictError.make(
            "Saving and loading safetensors files needs the optional 'safetensors' package.",
            fix="pip install 'torchscope[safetensors]' (or pip install safetensors).") from None
    return safetensors.torch


def _state(obj: Union[nn.Module, ScopedParameterStore]) -> Dict[str, torch.Tensor]:
    if isinstance(obj, ScopedParameterStore):
        return {record.display: record.param for record in obj.records()}
    if isinstance(obj, nn.Module):
        return obj.state_dict(keep_vars=True)
    raise StateDictError.make(
        f"save_safetensors/load_safetensors take an nn.Module or a ScopedParameterStore, got "
        f"{type(obj).__name__}.", fix="pass the model (or its store).")


def save_safetensors(obj: Union[nn.Module, ScopedParameterStore], path: Union[str, os.PathLike],
                     metadata: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Writes ``obj``'s state to a safetensors file, each shared tensor once.

    The file is written to a temporary name and renamed, so a failure leaves no partial file.

    Args:
        obj: a module (keys: its ``state_dict`` keys) or a store (keys: TF names).
        path: the file to write.
        metadata: extra string metadata to store.

    Returns:
        The aliases written: ``{dropped_key: kept_key}``.

    Raises:
        StateDictError: ``safetensors`` is not installed, or metadata keys clash with aliases.
    """
    st = _safetensors()
    kept: Dict[int, str] = {}
    tensors: Dict[str, torch.Tensor] = {}
    aliases: Dict[str, str] = {}
    for key, tensor in _state(obj).items():
        first = kept.setdefault(id(tensor), key)
        if first == key:
            tensors[key] = tensor.detach().contiguous()
        else:
            aliases[key] = first
    info = {"format": "pt", _ALIAS_KEY: json.dumps(aliases, sort_keys=True)}
    info.update(aliases)
    for key, value in (metadata or {}).items():
        if key in info:
            raise StateDictError.make(
                f"Metadata key {key!r} is reserved by torchscope (format or alias record).",
                fix="use another metadata key.")
        info[key] = str(value)
    path = os.fspath(path)
    partial = path + ".partial"
    try:
        st.save_file(tensors, partial, metadata=info)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return aliases


def load_safetensors(obj: Union[nn.Module, ScopedParameterStore], path: Union[str, os.PathLike],
                     strict: bool = True) -> None:
    """Loads a file written by :func:`save_safetensors` (aliases expanded), in place.

    Raises:
        StateDictError: ``safetensors`` is missing, or (for a store) keys/shapes do not match.
        RuntimeError: PyTorch's own ``load_state_dict`` errors for a module.
    """
    st = _safetensors()
    from safetensors import safe_open

    path = os.fspath(path)
    with safe_open(path, framework="pt") as handle:
        info = handle.metadata() or {}
    state = st.load_file(path)
    aliases = json.loads(info.get(_ALIAS_KEY, "{}")) if _ALIAS_KEY in info else {
        key: value for key, value in info.items() if value in state and key not in state}
    for alias, kept in aliases.items():
        state[alias] = state[kept]
    _state(obj)  # refuses anything but a module or a store
    obj.load_state_dict(state, strict=strict)
