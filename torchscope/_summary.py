"""``ts.summary(model)``: a printable table of every variable and who uses it.

Example:
    >>> import torch, torchscope as ts
    >>> class Siamese(ts.ScopedModule):
    ...     def forward(self, a, b):
    ...         outs = []
    ...         for i, x in enumerate((a, b)):
    ...             with ts.variable_scope("tower", reuse=i > 0):
    ...                 outs.append(x @ ts.get_variable("w", [3, 2]))
    ...         return outs
    >>> net = Siamese().build(torch.ones(1, 3), torch.ones(1, 3))
    >>> report = ts.summary(net)
    >>> report.total, report.rows[0]["name"], report.rows[0]["uses"]
    (6, 'tower/w', {'': 2})
    >>> print(report)                                                # doctest: +NORMALIZE_WHITESPACE
    name     shape   dtype    device  trainable  elements  used by (uses per pass)
    tower/w  (3, 2)  float32  cpu     yes        6         <root> (2)
    1 variable, 6 elements (each shared tensor counted once)
"""

from __future__ import annotations

from typing import Any, Dict, List

from torch import nn

from ._sharing import tensor_users

__all__ = ["Summary", "summary"]


class Summary:
    """The result of :func:`summary`: ``rows`` (one dict per distinct tensor) and ``total``
    (elements, each shared tensor counted once); ``str()`` is the table."""

    COLUMNS = ("name", "shape", "dtype", "device", "trainable", "elements",
               "used by (uses per pass)")

    def __init__(self, rows: List[Dict[str, Any]]) -> None:
        self.rows = rows
        self.total = sum(row["elements"] for row in rows)

    def __str__(self) -> str:
        table = [list(self.COLUMNS)]
        for row in self.rows:
            users = ", ".join(f"{name or '<root>'} ({row['uses'][name]})" if name in row["uses"]
                              else (name or "<root>") for name in row["modules"])
            table.append([row["name"], str(row["shape"]), row["dtype"], row["device"],
                          "yes" if row["trainable"] else "no", str(row["elements"]), users])
        widths = [max(len(line[i]) for line in table) for i in range(len(self.COLUMNS))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
                 for line in table]
        count = len(self.rows)
        lines.append(f"{count} variable{'s' if count != 1 else ''}, {self.total} elements "
                     "(each shared tensor counted once)")
        return "\n".join(lines)

    __repr__ = __str__


def summary(model: nn.Module) -> Summary:
    """A table of every parameter and buffer of ``model``: TF name, shape, dtype, device,
    trainable, element count, and the modules using it — with how many times each
    ``ScopedModule`` resolved it per pass (recorded during its first pass).

    Variables of ``ScopedModule``s are named by their TF names; other tensors by their
    ``state_dict`` key. A tensor shared by several modules is one row.

    Args:
        model: any ``nn.Module``.

    Returns:
        A :class:`Summary`; print it for the table.
    """
    modules = dict(model.named_modules(remove_duplicate=False))
    rows: List[Dict[str, Any]] = []
    for holders in tensor_users(model).values():
        module_name, key = holders[0]
        tensor = modules[module_name]._parameters.get(key)
        if tensor is None:
            tensor = modules[module_name]._buffers[key]
        name = key if not module_name else f"{module_name}.{key}"
        trainable = tensor.requires_grad
        uses: Dict[str, int] = {}
        for holder_name, _ in holders:
            holder = modules[holder_name]
            store = getattr(holder, "_ts_store", None)
            record = store.record_of(tensor) if store is not None else None
            if record is not None:
                name, trainable = record.display, record.trainable
                uses[holder_name] = holder._ts_uses.get(record.display, 0)
        rows.append({
            "name": name, "shape": tuple(tensor.shape), "dtype": str(tensor.dtype)[6:],
            "device": str(tensor.device), "trainable": trainable, "elements": tensor.numel(),
            "modules": list(dict.fromkeys(h for h, _ in holders)), "uses": uses,
        })
    return Summary(rows)
