"""What sharing weights costs in memory: k towers on one set of weights, after a training step.

DESIGN §4: k towers sharing weights hold exactly one copy of each parameter and one gradient.
Four models compute k towers of the same 3-layer MLP (hidden 256) on k inputs, and each takes
one training step (forward, ``sum`` of the outputs, backward, ``torch.optim.Adam`` step):

* **ts, one module**: a ``ScopedModule`` entering ``variable_scope("tower", reuse=i > 0)`` k
  times (the TF1 siamese/multi-tower pattern);
* **ts, k modules**: k ``ScopedModule``s on one store under one parent ``nn.Module`` (towers
  as separate modules, e.g. to place or wrap them separately);
* **(a) idiomatic**: one ``nn.Sequential`` tower called k times — the plain PyTorch baseline;
* **no sharing**: k independent towers, for contrast (what a tie broken somewhere would cost).

Printed per k: the tensors ``parameters()`` yields (what an optimizer gets), and the bytes of
distinct storages held by parameters, by gradients and by the optimizer's state, with the ratio
of each model's total to (a) (goal: 1.00 for both torchscope models at every k). On CUDA
(``--device cuda``) the peak memory allocated during the step is printed too, with its ratio.

Run: ``python benchmarks/bench_memory.py [--device cuda] [--towers 1 2 4 8] [--hidden 256]``
"""

from __future__ import annotations

import argparse
from typing import Callable, Dict, Iterable, List

import torch
from torch import nn

import torchscope as ts

LAYERS = 3


def tf_tower(x: torch.Tensor, hidden: int, reuse: bool) -> torch.Tensor:
    """One tower written TF1-style."""
    with ts.variable_scope("tower", reuse=reuse):
        for j in range(LAYERS):
            with ts.variable_scope(f"fc{j}"):
                w = ts.get_variable("weights", [hidden, hidden])
                b = ts.get_variable("biases", [hidden], initializer=ts.zeros_initializer())
                x = torch.relu(torch.addmm(b, x, w))
    return x


class TFTowers(ts.ScopedModule):
    """k towers in one ScopedModule: the first creates, the others reuse."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden

    def forward(self, *xs: torch.Tensor) -> List[torch.Tensor]:
        return [tf_tower(x, self.hidden, reuse=i > 0) for i, x in enumerate(xs)]


class TFTowerModules(nn.Module):
    """k ScopedModules on one store: tower 0 creates, towers 1.. reuse."""

    def __init__(self, hidden: int, k: int) -> None:
        super().__init__()
        store = ts.ScopedParameterStore()
        self.towers = nn.ModuleList([
            ts.ScopedModule.wrap(lambda x, reuse=i > 0: tf_tower(x, hidden, reuse), store=store)
            for i in range(k)])

    def forward(self, *xs: torch.Tensor) -> List[torch.Tensor]:
        return [tower(x) for tower, x in zip(self.towers, xs)]


def _mlp(hidden: int) -> nn.Sequential:
    layers = [(nn.Linear(hidden, hidden), nn.ReLU()) for _ in range(LAYERS)]
    return nn.Sequential(*[m for pair in layers for m in pair])


class Idiomatic(nn.Module):
    """(a) One tower module called k times."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.tower = _mlp(hidden)

    def forward(self, *xs: torch.Tensor) -> List[torch.Tensor]:
        return [self.tower(x) for x in xs]


class Unshared(nn.Module):
    """k independent towers: no sharing at all."""

    def __init__(self, hidden: int, k: int) -> None:
        super().__init__()
        self.towers = nn.ModuleList([_mlp(hidden) for _ in range(k)])

    def forward(self, *xs: torch.Tensor) -> List[torch.Tensor]:
        return [tower(x) for tower, x in zip(self.towers, xs)]


def _storage_bytes(tensors: Iterable[torch.Tensor]) -> int:
    """Bytes of the distinct storages behind ``tensors`` (a storage seen twice counts once)."""
    seen: Dict[int, int] = {}
    for t in tensors:
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
    return sum(seen.values())


def measure(model: nn.Module, xs: List[torch.Tensor], device: str) -> Dict[str, float]:
    """One training step; what the model holds afterwards (and its peak, on CUDA)."""
    params = list(model.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        start = torch.cuda.memory_allocated()
    sum(out.sum() for out in model(*xs)).backward()
    optimizer.step()
    state = [t for s in optimizer.state.values() for t in s.values()
             if isinstance(t, torch.Tensor) and t.dim() > 0]
    result = {
        "tensors": len(params),
        "params": _storage_bytes(list(params) + list(model.buffers())),
        "grads": _storage_bytes(p.grad for p in params if p.grad is not None),
        "optimizer": _storage_bytes(state),
    }
    result["total"] = result["params"] + result["grads"] + result["optimizer"]
    if device == "cuda":
        torch.cuda.synchronize()
        result["peak"] = torch.cuda.max_memory_allocated() - start
    return result


def run(k: int, hidden: int, batch: int, device: str) -> None:
    torch.manual_seed(0)
    xs = [torch.randn(batch, hidden, device=device) for _ in range(k)]
    builders: Dict[str, Callable[[], nn.Module]] = {
        "ts, one module": lambda: TFTowers(hidden).to(device).build(*xs),
        "ts, k modules": lambda: _built(TFTowerModules(hidden, k).to(device), xs),
        "(a) idiomatic": lambda: Idiomatic(hidden).to(device),
        "no sharing": lambda: Unshared(hidden, k).to(device),
    }
    rows = {name: measure(build(), xs, device) for name, build in builders.items()}
    base = rows["(a) idiomatic"]
    for name, row in rows.items():
        line = (f"k={k:2d}  {name:15s} tensors {row['tensors']:3d}"
                f"  params {row['params'] / 1e6:7.3f} MB  grads {row['grads'] / 1e6:7.3f} MB"
                f"  optimizer {row['optimizer'] / 1e6:7.3f} MB"
                f"  |  total/(a) {row['total'] / base['total']:.2f}")
        if "peak" in row:
            line += f"  peak {row['peak'] / 1e6:7.3f} MB  peak/(a) {row['peak'] / base['peak']:.2f}"
        print(line)


def _built(model: TFTowerModules, xs: List[torch.Tensor]) -> TFTowerModules:
    for tower, x in zip(model.towers, xs):
        tower.build(x)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--towers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {args.device}; hidden {args.hidden}, batch {args.batch}, "
          f"{LAYERS} layers per tower; after one step of forward, backward and Adam")
    if args.device == "cuda":
        # one throwaway step first: the first matmul on a GPU allocates cuBLAS's workspace
        # (about 33 MB on an H200), which would otherwise land in the first row's peak
        measure(Idiomatic(args.hidden).to("cuda"), [torch.randn(args.batch, args.hidden,
                                                                device="cuda")], "cuda")
    for k in args.towers:
        run(k, args.hidden, args.batch, args.device)


if __name__ == "__main__":
    main()
