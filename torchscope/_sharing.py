"""Who shares what: the sharing graph of a model, for FSDP2 grouping and for reports.

A parameter registered on several modules ties them: FSDP2 must shard those modules in one
``fully_shard([...])`` call, or the shared parameter is split across groups (silently wrong
training on some torch versions, an error on others). :func:`sharing_groups` finds the groups.

Example:
    >>> import torch, torchscope as ts
    >>> from torch import nn
    >>> store = ts.ScopedParameterStore()
    >>> def tower(reuse):
    ...     def fn(x):
    ...         with ts.variable_scope("tower", reuse=reuse):
    ...             return x @ ts.get_variable("w", [4, 4])
    ...     return ts.ScopedModule.wrap(fn, store=store)
    >>> model = nn.ModuleDict({"left": tower(False), "right": tower(True), "head": nn.Linear(4, 1)})
    >>> for name in ("left", "right"):
    ...     _ = model[name](torch.ones(1, 4))
    >>> ts.sharing_groups(model)
    [['left', 'right']]
"""

from __future__ import annotations

from typing import Dict, List

from torch import nn

__all__ = ["sharing_groups", "tensor_users"]


def tensor_users(model: nn.Module, buffers: bool = True) -> Dict[int, List[tuple]]:
    """``id(tensor) -> [(module_name, key), ...]`` for every parameter (and buffer) registered
    directly on each module of ``model``, aliases included, in ``named_modules`` order."""
    users: Dict[int, List[tuple]] = {}
    for module_name, module in model.named_modules(remove_duplicate=False):
        tables = [module._parameters] + ([module._buffers] if buffers else [])
        for table in tables:
            for key, tensor in table.items():
                if tensor is not None:
                    users.setdefault(id(tensor), []).append((module_name, key))
    return users


def sharing_groups(model: nn.Module) -> List[List[str]]:
    """Groups of submodule names that share parameters and so must be sharded together.

    Modules are joined when one parameter object is registered on both (transitively). Only
    groups of two or more modules are returned, each in ``named_modules`` order, so that::

        for group in ts.sharing_groups(model):
            fully_shard([model.get_submodule(name) for name in group])
        fully_shard(model)

    puts every tied parameter in exactly one FSDP group. A module reachable under two names
    (reused by attribute) is one module and needs no group.

    Args:
        model: any ``nn.Module`` (``ScopedModule``s sharing a store included).

    Returns:
        A list of groups; each group lists module names (``""`` is ``model`` itself).
    """
    order: Dict[str, int] = {}
    module_of: Dict[str, int] = {}
    for name, module in model.named_modules(remove_duplicate=False):
        order.setdefault(name, len(order))
        module_of[name] = id(module)
    parent: Dict[str, str] = {}

    def find(name: str) -> str:
        while parent.get(name, name) != name:
            name = parent[name]
        return name

    for holders in tensor_users(model, buffers=False).values():
        names = []
        seen_modules = set()
        for module_name, _ in holders:
            if module_of[module_name] not in seen_modules:   # the same module twice is no tie
                seen_modules.add(module_of[module_name])
                names.append(module_name)
        for other in names[1:]:
            root_a, root_b = find(names[0]), find(other)
            if root_a != root_b:
                parent[root_b] = root_a
    groups: Dict[str, List[str]] = {}
    for name in parent:
        groups.setdefault(find(name), []).append(name)
    result = []
    for root, members in groups.items():
        members = sorted(set(members) | {root}, key=order.__getitem__)
        if len(members) > 1:
            result.append(members)
    return sorted(result, key=lambda group: order[group[0]])
