"""A siamese network on handwritten digits, written the TensorFlow 1 way.

What it shows:

- **TF1-style sharing in PyTorch.** The siamese tower is one function. ``forward`` enters it with
  ``ts.variable_scope("tower", reuse=False)`` for the left images and ``reuse=True`` for the
  right ones, exactly as TF1 code did: both branches read the same ``tower/...`` variables.
- **``ts.ScopedModule``.** The model is an ordinary ``nn.Module``: built once, moved with
  ``.to(device)``, trained by an optimizer over ``model.parameters()``; its ``state_dict`` keys
  are the TF names.
- **``ts.summary``** lists every variable once, with how often one forward pass uses it (twice:
  once per branch).
- **``ts.save_safetensors``** writes the checkpoint with each shared tensor stored once;
  ``ts.load_safetensors`` reads it back into a fresh model.

The data is scikit-learn's bundled digits (1797 8x8 images, no download), split 70/30. The tower
maps an image to a 32-D embedding, trained with the contrastive loss of Hadsell, Chopra and
LeCun (2006): pairs of the same digit are pulled together, pairs of different digits pushed at
least a margin apart. Held-out results are measured in that embedding: nearest-class-mean
accuracy, and same/different-digit verification by distance with a threshold chosen on training
pairs. For the picture, a small head inside the tower learns a 2-D map of the embedding with the
same loss; it sees the embedding through ``detach()``, so it draws the embedding without shaping
it.

Run::

    python examples/siamese_digits.py                  # 10-20 s on a 2-core CPU
    python examples/siamese_digits.py --device cuda --epochs 60 --out runs/siamese
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Optional, Tuple

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import torchscope as ts

EMBEDDING_DIM = 32
MARGIN = 1.0


def dense(x: torch.Tensor, units: int, name: str) -> torch.Tensor:
    """TF1's fully connected layer: a ``[in, out]`` kernel initialised glorot_uniform
    (``get_variable``'s default) and a zero bias."""
    with ts.variable_scope(name):
        kernel = ts.get_variable("kernel", [x.shape[-1], units])
        bias = ts.get_variable("bias", [units], initializer=ts.zeros_initializer())
    return x @ kernel + bias


Branch = Tuple[torch.Tensor, torch.Tensor]   # (embedding, its 2-D map)


class Siamese(ts.ScopedModule):
    """Two branches, one set of weights: the second entry of the ``tower`` scope reuses them."""

    def tower(self, images: torch.Tensor, reuse: bool) -> Branch:
        with ts.variable_scope("tower", reuse=reuse):
            h = torch.relu(dense(images, 128, "hidden1"))
            h = torch.relu(dense(h, 64, "hidden2"))
            embedding = dense(h, EMBEDDING_DIM, "embedding")
            with ts.variable_scope("map2d"):   # detach(): it follows the embedding, never shapes it
                h = torch.relu(dense(embedding.detach(), 32, "hidden"))
                return embedding, dense(h, 2, "out")

    def forward(self, left: torch.Tensor, right: Optional[torch.Tensor] = None):
        left_branch = self.tower(left, reuse=False)
        if right is None:
            return left_branch
        return left_branch, self.tower(right, reuse=True)


def contrastive_loss(a: torch.Tensor, b: torch.Tensor, same: torch.Tensor) -> torch.Tensor:
    distance = torch.linalg.vector_norm(a - b, dim=1)
    pulled = same * distance.square()
    pushed = (1.0 - same) * torch.relu(MARGIN - distance).square()
    return (pulled + pushed).mean()


class PairSampler:
    """Draws a partner for each anchor: of the same digit or of another, at random."""

    def __init__(self, labels: np.ndarray, rng: np.random.Generator) -> None:
        self.labels, self.rng = labels, rng
        self.by_label = np.argsort(labels, kind="stable")
        self.start = np.searchsorted(labels[self.by_label], np.arange(10))
        self.count = np.bincount(labels, minlength=10)

    def partners(self, anchors: np.ndarray, same: Optional[np.ndarray] = None):
        """Returns (partners, same); ``same`` defaults to a fair coin per anchor."""
        if same is None:
            same = self.rng.random(len(anchors)) < 0.5
        own = self.labels[anchors]
        other = (own + self.rng.integers(1, 10, len(anchors))) % 10
        label = np.where(same, own, other)
        offset = (self.rng.random(len(anchors)) * self.count[label]).astype(np.int64)
        return self.by_label[self.start[label] + offset], same


def load_data(seed: int):
    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)
    return train_test_split(images, digits.target, test_size=0.3, stratify=digits.target,
                            random_state=seed)


def train(model: Siamese, images: torch.Tensor, labels: np.ndarray, epochs: int,
          batch_size: int, lr: float, rng: np.random.Generator) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    sampler = PairSampler(labels, rng)
    steps = len(labels) // batch_size
    bar = tqdm(range(epochs), desc="training", unit="epoch")
    for _ in bar:
        order = rng.permutation(len(labels))
        for step in range(steps):
            anchors = order[step * batch_size:(step + 1) * batch_size]
            partners, same = sampler.partners(anchors)
            same = torch.from_numpy(same).to(images.device, torch.float32)
            (left, left_2d), (right, right_2d) = model(images[anchors], images[partners])
            loss = contrastive_loss(left, right, same)
            optimizer.zero_grad()
            (loss + contrastive_loss(left_2d, right_2d, same)).backward()
            optimizer.step()
        bar.set_postfix(loss=f"{loss.item():.4f}")


def nearest_class_mean_accuracy(train_x: torch.Tensor, train_y: torch.Tensor,
                                test_x: torch.Tensor, test_y: torch.Tensor) -> float:
    means = torch.stack([train_x[train_y == digit].mean(0) for digit in range(10)])
    return (torch.cdist(test_x, means).argmin(1) == test_y).float().mean().item()


def verification_pairs(embedding: torch.Tensor, labels: np.ndarray, rng: np.random.Generator):
    """Balanced pairs: each image once with a same-digit partner (never itself) and once with
    another digit's. Returns (distances, same)."""
    anchors = np.concatenate([np.arange(len(labels))] * 2)
    wanted = np.arange(len(anchors)) < len(labels)
    partners, same = PairSampler(labels, rng).partners(anchors, wanted)
    keep = partners != anchors
    anchors, partners, same = anchors[keep], partners[keep], same[keep]
    distances = torch.linalg.vector_norm(embedding[anchors] - embedding[partners], dim=1)
    return distances.cpu(), torch.from_numpy(same)


def best_threshold(distances: torch.Tensor, same: torch.Tensor) -> float:
    """The distance below which calling a pair "same digit" is right most often."""
    order = distances.argsort()
    d, s = distances[order], same[order].float()
    # calling the k+1 closest pairs "same": right on their same pairs and the others' different
    correct = s.cumsum(0) + ((1 - s).sum() - (1 - s).cumsum(0))
    k = int(correct.argmax())
    return float((d[k] + d[min(k + 1, len(d) - 1)]) / 2)


def plot_map(points: np.ndarray, labels: np.ndarray, path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(5.0, 5.0), dpi=100)
    for (x, y), digit in zip(points, labels):
        ax.text(x, y, str(digit), color=colors(digit), fontsize=8, weight="bold",
                ha="center", va="center")
    low, high = points.min(0), points.max(0)
    pad = 0.05 * (high - low)
    ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
    ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default="out", help="output directory (created if missing)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fast", action="store_true", help="2 epochs: a smoke test")
    args = parser.parse_args()
    if args.fast:
        args.epochs = 2

    start = time.perf_counter()
    device = torch.device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(1)   # the matrices are tiny: threads cost more than they save
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)

    train_x, test_x, train_y, test_y = load_data(args.seed)
    example = torch.from_numpy(train_x[:2])
    # The first pass creates the variables. Building on the CPU makes the initial weights the
    # same on every device; the tie survives .to().
    model = Siamese().build(example, example).to(device)
    print(ts.summary(model), end="\n\n")

    train_xt, test_xt = torch.from_numpy(train_x).to(device), torch.from_numpy(test_x).to(device)
    train(model, train_xt, train_y, args.epochs, args.batch_size, args.lr, rng)

    model.eval()
    with torch.no_grad():
        (train_emb, train_2d), (test_emb, test_2d) = model(train_xt), model(test_xt)
    train_yt, test_yt = torch.from_numpy(train_y).to(device), torch.from_numpy(test_y).to(device)
    pixels = nearest_class_mean_accuracy(train_xt, train_yt, test_xt, test_yt)
    ncm = nearest_class_mean_accuracy(train_emb, train_yt, test_emb, test_yt)
    ncm_2d = nearest_class_mean_accuracy(train_2d, train_yt, test_2d, test_yt)
    threshold = best_threshold(*verification_pairs(train_emb, train_y, rng))
    distances, same = verification_pairs(test_emb, test_y, rng)
    verification = ((distances < threshold) == same).float().mean().item()

    print(f"\nheld-out: {len(test_y)} digits, {len(distances)} balanced same/different pairs")
    for label, accuracy in [("raw pixels (baseline)", pixels),
                            (f"{EMBEDDING_DIM}-D embedding", ncm), ("its 2-D map", ncm_2d)]:
        print(f"nearest-class-mean accuracy, {label + ':':<23}{accuracy:.4f}")
    print(f"{'pair-verification accuracy:':<52}{verification:.4f} "
          f"(same digit if distance < {threshold:.3f}, chosen on training pairs)")

    plot_path = os.path.join(args.out, "siamese_embedding.png")
    plot_map(test_2d.cpu().numpy(), test_y, plot_path,
             f"{len(test_y)} held-out digits: a 2-D map of the siamese embedding\n"
             f"({EMBEDDING_DIM}-D: nearest-class-mean accuracy {ncm:.3f}, "
             f"pair verification {verification:.3f})")
    checkpoint = os.path.join(args.out, "siamese_digits.safetensors")
    ts.save_safetensors(model, checkpoint)

    restored = Siamese().build(example, example).to(device)
    ts.load_safetensors(restored, checkpoint)
    restored.eval()
    with torch.no_grad():
        if not torch.equal(restored(test_xt)[0], test_emb):
            raise SystemExit("the reloaded checkpoint embeds differently")
    print(f"embedding plot: {plot_path}")
    print(f"checkpoint:     {checkpoint} ({len(model.state_dict())} tensors by TF name; "
          "reloaded into a fresh model and checked)")
    print(f"done in {time.perf_counter() - start:.1f} s on {device}")


if __name__ == "__main__":
    main()
