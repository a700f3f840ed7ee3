"""TF1's multi-GPU tower pattern, ported to torchscope, and checked against one tower.

TF1 code trained on several GPUs by building one copy of the model — a *tower* — per GPU, all
reading one set of variables. The TF1 original, in its usual form::

    tower_grads = []
    for i in range(num_gpus):
        with tf.device("/gpu:%d" % i):
            with tf.variable_scope("model", reuse=i > 0, caching_device="/gpu:%d" % i):
                loss = tower_loss(images[i], labels[i])
                tower_grads.append(opt.compute_gradients(loss))
    train_op = opt.apply_gradients(average_gradients(tower_grads))

The port keeps the scope line as it is. Tower 0 creates the variables; every tower reads them
through ``caching_device``: one copy per device per forward pass, through which gradients flow
back to the single variable. Where the variables live is the store's ``device``: the first
tower's device by default, as above, or the host with ``--variable-device cpu`` (TF1's
``tf.device("/cpu:0")`` around the variables). The tower losses are combined into one, so
``backward`` sums their gradients into each shared parameter, and one optimizer steps over
``model.parameters()`` — one copy of each variable however many towers there are.

Towers go over every visible GPU (at least ``--towers``, round-robin), or over ``--towers`` CPU
towers when there is no GPU. The script trains on the same batches twice from the same initial
weights, with one tower and with all of them, and exits non-zero unless the final weights agree
to 1e-5.

Run::

    python examples/multi_tower.py                 # 2 CPU towers, or every visible GPU
    python examples/multi_tower.py --towers 4 --steps 300
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

import torchscope as ts

TOLERANCE = 1e-5


def dense(x: torch.Tensor, units: int, name: str) -> torch.Tensor:
    with ts.variable_scope(name):
        kernel = ts.get_variable("kernel", [x.shape[-1], units])
        bias = ts.get_variable("bias", [units], initializer=ts.zeros_initializer())
    return x @ kernel + bias


def tower_logits(images: torch.Tensor) -> torch.Tensor:
    return dense(torch.relu(dense(images, 64, "hidden")), 10, "logits")


class Towers(ts.ScopedModule):
    """One tower per device, one set of variables (on the store's device)."""

    def __init__(self, devices: Sequence[torch.device], variable_device: torch.device) -> None:
        super().__init__(store=ts.ScopedParameterStore(device=variable_device))
        self.devices = list(devices)
        self.home = variable_device

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        shards = zip(images.tensor_split(len(self.devices)), labels.tensor_split(len(self.devices)))
        total = []
        for i, (device, (x, y)) in enumerate(zip(self.devices, shards)):
            with ts.variable_scope("model", reuse=i > 0, caching_device=device):
                logits = tower_logits(x.to(device))
                total.append(F.cross_entropy(logits, y.to(device), reduction="sum").to(self.home))
        # TF1's average_gradients averaged the towers' mean losses, which is exact for equal
        # shards; summing and dividing by the batch size is exact for any split.
        return torch.stack(total).sum() / len(labels)

    @torch.no_grad()
    def accuracy(self, images: torch.Tensor, labels: torch.Tensor) -> float:
        """Outside a forward pass the store works like a TF1 graph: re-entering the scope with
        reuse=True gives the trained variables."""
        with self.store.as_default(), ts.variable_scope("model", reuse=True):
            logits = tower_logits(images.to(self.home))
        return (logits.argmax(1).cpu() == labels).float().mean().item()


def tower_devices(towers: int) -> List[torch.device]:
    if torch.cuda.is_available():
        gpus = torch.cuda.device_count()
        return [torch.device("cuda", i % gpus) for i in range(max(towers, gpus))]
    return [torch.device("cpu")] * towers


def train(model: Towers, images: torch.Tensor, labels: torch.Tensor,
          batches: List[np.ndarray], lr: float) -> float:
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for batch in batches:
        loss = model(images[batch], labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--towers", type=int, default=2,
                        help="CPU towers without a GPU; with GPUs, at least this many, round-robin")
    parser.add_argument("--variable-device", default=None,
                        help="where the variables live (default: the first tower's device)")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    devices = tower_devices(args.towers)
    home = torch.device(args.variable_device) if args.variable_device else devices[0]
    if home.type == "cpu":
        torch.set_num_threads(1)   # tiny matrices: threads cost more than they save
    torch.backends.cuda.matmul.allow_tf32 = False   # agreement to 1e-5 needs full fp32

    digits = load_digits()
    images = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    labels = torch.tensor(digits.target)
    test = rng.permutation(len(labels))[:360]
    train_mask = np.ones(len(labels), bool)
    train_mask[test] = False
    train_x, train_y = images[train_mask], labels[train_mask]
    batches = [rng.choice(len(train_y), args.batch_size, replace=False) for _ in range(args.steps)]

    single = Towers(devices[:1], home).build(train_x[:64], train_y[:64])
    multi = Towers(devices, home).build(train_x[:64], train_y[:64])
    multi.load_state_dict(single.state_dict())          # the same initial weights
    print(ts.summary(multi), end="\n\n")
    print(f"{len(devices)} towers on {', '.join(map(str, devices))}; variables on {home}\n")

    results = {}
    for name, model in (("1 tower", single), (f"{len(devices)} towers", multi)):
        loss = train(model, train_x, train_y, batches, args.lr)
        accuracy = model.accuracy(images[test], labels[test])
        print(f"{name:>9}: {args.steps} steps, final loss {loss:.4f}, "
              f"held-out accuracy {accuracy:.4f}")
        results[name] = model.state_dict()

    first, second = results.values()
    difference = max((first[key] - second[key]).abs().max().item() for key in first)
    print(f"max |weight difference| after training: {difference:.2e} (tolerance {TOLERANCE:g})")
    if not difference <= TOLERANCE:
        print("single-tower and multi-tower training disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
