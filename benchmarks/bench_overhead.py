"""What a ``ScopedModule`` costs over plain PyTorch: a siamese MLP training step.

One step is forward (two towers sharing weights) + loss + backward. Three models (and a
control) compute the same math and are timed interleaved in one process: they take turns of 25
steps, and every step is timed (see ``_bench``). A ratio compares the two models' turns of the
same round, the median over rounds counting (``ratio``), so a slow stretch of a shared machine
weighs on both sides:

* **ts**: a ``ScopedModule`` written in TF1 style (``variable_scope("tower", reuse=...)``);
* **(a) idiomatic**: ``nn.Linear`` layers, the tower module called twice;
* **(b) raw**: tied ``nn.Parameter``s and ``torch.addmm`` — the pure-overhead baseline;
* **(b)′ control**: a second copy of (b), timed like the others. (b)′/(b) is what two
  identical models differ by in this run: the resolution of every other ratio printed.

Printed: the median µs per step of each model, and the ratios ts/(a) and ts/(b), eager and
under ``torch.compile`` (ts and (b) compiled with ``fullgraph=True``), plus Dynamo's graph-break
count for the ScopedModule. Compiled, each model runs both ways PyTorch compiles a module:
``torch.compile(module)``, which wraps it (for the ScopedModule: with all of Dynamo's guards, or,
given ``options={"guard_filter_fn": ts.guard_filter}``, without the guards on torchscope's own
code), and ``module.compile()``, in place (for the ScopedModule: with ``ts.guard_filter``); the
ScopedModule is compared with (b) compiled the same way — the wrapper alone costs more than the
guards. The three run one after the other, each after ``torch._dynamo.reset()`` and with a
control of its own: Dynamo keeps one set of compiled code per code object whatever the options,
so compiled side by side, the later ones would run the first one's code. Goals (DESIGN §4):
eager ts/(a) ≤ 1.00, ts/(b) ≤ 1.05; compiled ts/(b) ≤ 1.02; 0 graph breaks. Sizes: hidden 256
/ batch 16, and hidden 16 / batch 1 (where Python overhead shows most). ``bench_instructions.py``
counts the same steps in CPU instructions, without timing noise.

Run: ``python benchmarks/bench_overhead.py [--device cuda] [--steps 3000] [--no-compile]``
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from typing import Dict, List, Tuple

import torch
from torch import nn

import torchscope as ts

LAYERS = 3
TURN = 25          # steps a model runs before the next one takes over


class TFSiamese(ts.ScopedModule):
    """The TF1-style port: one tower function, entered twice with reuse."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden

    def tower(self, x: torch.Tensor, reuse: bool) -> torch.Tensor:
        with ts.variable_scope("tower", reuse=reuse):
            for i in range(LAYERS):
                with ts.variable_scope(f"fc{i}"):
                    w = ts.get_variable("weights", [self.hidden, self.hidden])
                    b = ts.get_variable("biases", [self.hidden],
                                        initializer=ts.zeros_initializer())
                    x = torch.relu(torch.addmm(b, x, w))
        return x

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.tower(a, reuse=False), self.tower(b, reuse=True)


class IdiomaticSiamese(nn.Module):
    """(a) What a PyTorch user writes: nn.Linear layers, the tower called twice."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.tower = nn.Sequential(*[m for _ in range(LAYERS)
                                     for m in (nn.Linear(hidden, hidden), nn.ReLU())])

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.tower(a), self.tower(b)


class RawSiamese(nn.Module):
    """(b) The same math on raw tied parameters: no module-call or scope overhead."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.randn(hidden, hidden) * 0.1) for _ in range(LAYERS)])
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.zeros(hidden)) for _ in range(LAYERS)])

    def tower(self, x: torch.Tensor) -> torch.Tensor:
        for w, b in zip(self.weights, self.biases):
            x = torch.relu(torch.addmm(b, x, w))
        return x

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.tower(a), self.tower(b)


def _copy_weights(ts_model: TFSiamese, idiomatic: IdiomaticSiamese, raw: RawSiamese) -> None:
    """Gives the three models the same values: the math is then identical (timings depend on
    the values — e.g. how many activations the ReLUs zero)."""
    linears = [m for m in idiomatic.tower if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for i in range(LAYERS):
            w = ts_model.get_parameter(f"tower/fc{i}/weights")
            b = ts_model.get_parameter(f"tower/fc{i}/biases")
            raw.weights[i].copy_(w)
            raw.biases[i].copy_(b)
            linears[i].weight.copy_(w.T)
            linears[i].bias.copy_(b)


def _step(model: nn.Module, a: torch.Tensor, b: torch.Tensor) -> None:
    ya, yb = model(a, b)
    loss = (ya - yb).square().sum()
    loss.backward()


def _bench(models: dict, a: torch.Tensor, b: torch.Tensor, steps: int, device: str,
           turn: int = TURN) -> Tuple[Dict[str, float], Dict[str, List[float]]]:
    """Times the models interleaved: ``(µs, turns)``, the median µs per step of each model and,
    per model, the median step time of each of its turns (for ``ratio``).

    The models take turns of ``turn`` steps (in alternating order) until each has run
    ``steps``, and every step is timed on its own. Turns keep each model's code and data warm,
    as in a training loop, where one model runs step after step (turns of a single step would
    charge every model for the caches the others just evicted — most of all the one with the
    most Python). Timing each step and taking medians makes a figure immune to short bursts of
    noise; ``ratio`` compares turns of the same round, so the slower stretches of a shared
    machine — another tenant, a frequency change — cancel out instead of landing on whichever
    model ran more of its steps during them.
    """
    for model in models.values():        # warm up (and compile)
        for _ in range(20):
            _step(model, a, b)
    params = {name: list(model.parameters()) for name, model in models.items()}
    samples: Dict[str, List[float]] = {name: [] for name in models}
    turns: Dict[str, List[float]] = {name: [] for name in models}
    order = list(models.items())
    clock = time.perf_counter
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for round_ in range(-(-steps // turn)):
        for name, model in (order if round_ % 2 == 0 else order[::-1]):
            times = []
            for _ in range(turn):
                for p in params[name]:
                    p.grad = None
                sync()
                start = clock()
                _step(model, a, b)
                sync()
                times.append(clock() - start)
            samples[name] += times
            turns[name].append(statistics.median(times))
    return {name: statistics.median(values) * 1e6 for name, values in samples.items()}, turns


def ratio(turns: Dict[str, List[float]], x: str, y: str) -> float:
    """Step time of ``x`` over ``y``: the median, over rounds, of the ratio of their turns'
    medians in that round (a paired comparison: see ``_bench``)."""
    return statistics.median(tx / ty for tx, ty in zip(turns[x], turns[y]))


def make_models(hidden: int, batch: int, device: str) -> tuple:
    """``(a, b, models)``: the two inputs and the three models ("ts", "idiomatic", "raw"),
    given the same weights."""
    torch.manual_seed(0)
    a = torch.randn(batch, hidden, device=device)
    b = torch.randn(batch, hidden, device=device)
    ts_model = TFSiamese(hidden).to(device).build(a, b)
    models = {"ts": ts_model, "idiomatic": IdiomaticSiamese(hidden).to(device),
              "raw": RawSiamese(hidden).to(device)}
    _copy_weights(ts_model, models["idiomatic"], models["raw"])
    return a, b, models


def compile_model(model: nn.Module, in_place: bool, filtered: bool = False) -> nn.Module:
    """``model`` compiled with ``fullgraph=True``, one of the two ways PyTorch compiles a module:
    in place (``model.compile()``; for a ScopedModule, with ``ts.guard_filter``) or wrapped
    (``torch.compile(model)``, a new module whose calls cost more Python; with ``filtered``,
    given ``ts.guard_filter`` as its ``guard_filter_fn`` option — which drops nothing of a model
    without torchscope code)."""
    if in_place:
        model.compile(fullgraph=True)
        return model
    options = {"guard_filter_fn": ts.guard_filter} if filtered else None
    return torch.compile(model, fullgraph=True, options=options)


def run(hidden: int, batch: int, device: str, steps: int, compile_too: bool) -> None:
    a, b, models = make_models(hidden, batch, device)
    ts_model = models["ts"]
    models["control"] = copy.deepcopy(models["raw"])
    us, turns = _bench(models, a, b, steps, device)
    print(f"hidden {hidden:4d} batch {batch:3d} {device} eager:    ts {us['ts']:8.1f} µs  "
          f"(a) {us['idiomatic']:8.1f} µs  (b) {us['raw']:8.1f} µs  |  "
          f"ts/(a) {ratio(turns, 'ts', 'idiomatic'):.3f}  ts/(b) {ratio(turns, 'ts', 'raw'):.3f}"
          f"  |  control (b)'/(b) {ratio(turns, 'control', 'raw'):.3f}")
    if not compile_too:
        return
    explanation = torch._dynamo.explain(ts_model)(a, b)
    # Each compile path against (b) compiled the same way (see compile_model), in a phase of
    # its own: Dynamo keeps compiled code per code object, whatever the options it was compiled
    # with, so a ScopedModule compiled in place after a copy of it was compiled by
    # torch.compile(...) would run that copy's entry, with every guard (and vice versa).
    line = f"hidden {hidden:4d} batch {batch:3d} {device} compiled:"
    for in_place, filtered, label in ((False, False, "torch.compile(model)"),
                                      (False, True, "same, guard_filter_fn=ts.guard_filter"),
                                      (True, False, "model.compile()")):
        torch._dynamo.reset()
        compiled = {name: compile_model(copy.deepcopy(models[name]), in_place, filtered)
                    for name in ("ts", "raw", "control")}
        us, turns = _bench(compiled, a, b, steps, device)
        line += (f"  {label}: ts {us['ts']:8.1f} µs  (b) {us['raw']:8.1f} µs  "
                 f"ts/(b) {ratio(turns, 'ts', 'raw'):.3f}  "
                 f"control {ratio(turns, 'control', 'raw'):.3f}  |")
    print(f"{line}  graph breaks {explanation.graph_break_count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=3000,
                        help="timed steps per model and size (each step timed on its own)")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads for torch (default 1: a second pool thread waking "
                             "for tiny matmuls adds more noise than signal)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s); {args.steps} steps per "
          f"model, each timed, the models taking turns of {TURN} steps; µs: median step; "
          f"ratios: median over rounds of the turns' ratio")
    for hidden, batch in ((256, 16), (16, 1)):
        run(hidden, batch, args.device, args.steps, not args.no_compile)


if __name__ == "__main__":
    main()
