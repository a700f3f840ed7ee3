"""TensorFlow's ``'same'``/``'valid'``/``'causal'`` padding arithmetic, per spatial dimension.

TF's rule for ``'same'``: ``out = ceil(in / stride)``, and the total padding
``max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0)`` is split with the smaller half
*before* (top/left) and the rest *after* (bottom/right). With stride 2 on an even size (or an
even kernel) the split is uneven, which PyTorch's symmetric ``padding=`` cannot express; those
cases are padded explicitly.

Example:
    >>> same_pads(8, 3, 2, 1)     # stride 2 on an even size: nothing before, one after
    (0, 1)
    >>> same_pads(7, 3, 2, 1), same_pads(8, 2, 1, 1), same_pads(8, 3, 1, 2)
    ((1, 1), (0, 1), (2, 2))
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

__all__ = ["flat_pads", "is_symmetric", "pads_for", "same_pads"]

Pads = Tuple[int, int]


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> Pads:
    """``(before, after)`` padding of one dimension for TF's ``'same'``."""
    out = -(-size // stride)
    effective = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def pads_for(padding: str, sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
             dilation: Sequence[int]) -> List[Pads]:
    """``(before, after)`` per spatial dimension: zeros for ``'valid'``, TF's split for
    ``'same'``, ``(k - 1) * dilation`` before for ``'causal'``."""
    if padding == "same":
        return [same_pads(n, k, s, d) for n, k, s, d in zip(sizes, kernel, strides, dilation)]
    if padding == "causal":
        return [((k - 1) * d, 0) for k, d in zip(kernel, dilation)]
    return [(0, 0)] * len(sizes)


def is_symmetric(pads: Sequence[Pads]) -> bool:
    """Whether every dimension pads as much before as after (PyTorch's ``padding=`` can)."""
    return all(before == after for before, after in pads)


def flat_pads(pads: Sequence[Pads]) -> List[int]:
    """``pads`` in ``torch.nn.functional.pad`` order: the last dimension first."""
    out: List[int] = []
    for before, after in reversed(pads):
        out += [before, after]
    return out
