"""Where a ``ScopedModule`` puts variables it creates after ``.to()`` & co. were applied to it.

PyTorch converts a module's tensors in ``Module._apply(fn)`` (``.to()``, ``.cuda()``,
``.half()``, ``to_empty()``...). A ``ScopedModule`` creates its variables later, in its first
pass — and non-trainable ones possibly in later passes — so a conversion applied before they
existed would be lost: ``Net().to("cuda")`` followed by a call would build on the CPU. Like
PyTorch's lazy modules, the module instead remembers what its conversions did — the device they
moved tensors to and the dtype each floating dtype became — and a variable created in one of its
passes is converted the same way, as if it had existed when ``.to()`` was called.

Example:
    >>> import torch
    >>> placement = Placement().after(lambda t: t.double() if t.is_floating_point() else t)
    >>> placement.apply(torch.zeros(2)).dtype
    torch.float64
    >>> placement.apply(torch.zeros(2, dtype=torch.int64)).dtype
    torch.int64
"""

from __future__ import annotations

from typing import Callable, Dict, Optional

import torch

__all__ = ["Placement"]

#: The dtypes a conversion is probed with: the floating and complex ones that ``.half()``,
#: ``.double()`` and ``.to(dtype)`` convert, and int64 standing for every other dtype (whose
#: tensors a conversion moves but does not convert, except ``.type(dst)``, which converts all).
_PROBED = (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64,
           torch.complex128, torch.int64)


class Placement:
    """The combined effect of the conversions applied to a module so far.

    Attributes:
        device: where the last conversion that moved tensors put them (None: none moved them,
            so new variables stay where they are created — the store's device or
            ``torch.get_default_device()``).
        dtypes: declared dtype -> the dtype conversions turned it into (only those changed).
    """

    __slots__ = ("device", "dtypes")

    def __init__(self, device: Optional[torch.device] = None,
                 dtypes: Optional[Dict[torch.dtype, torch.dtype]] = None) -> None:
        self.device = device
        self.dtypes = dtypes if dtypes is not None else {}

    def after(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> "Placement":
        """The placement once ``fn`` (a ``Module._apply`` conversion) has been applied too: ``fn``
        runs on an empty tensor of each probed dtype, as it stands now."""
        device = self.device
        dtypes: Dict[torch.dtype, torch.dtype] = {}
        for declared in _PROBED:
            probe = torch.empty(0, dtype=self.dtypes.get(declared, declared),
                                device=self.device if self.device is not None else "cpu")
            out = fn(probe)
            if out.device != probe.device:
                device = out.device
            if out.dtype != declared:
                dtypes[declared] = out.dtype
        return Placement(device, dtypes)

    def apply(self, value: torch.Tensor) -> torch.Tensor:
        """``value`` (a new variable's initial value) converted as the module's tensors were:
        moved to ``device`` and, for a probed dtype, converted to what that dtype became (an
        unprobed dtype, e.g. int32 or bool, is moved only, as ``.to()``/``.half()`` do)."""
        dtype = self.dtypes.get(value.dtype, value.dtype)
        device = self.device if self.device is not None else value.device
        return value.to(device=device, dtype=dtype)
