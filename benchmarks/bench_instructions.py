"""``bench_overhead.py`` counted in CPU instructions instead of time: a deterministic ratio.

On a shared machine the timed ratios of ``bench_overhead.py`` swing by several percent from run
to run, which is as much as the goals allow. This script runs the same training step (forward
of both towers, loss, backward) of the same models under ``valgrind --tool=cachegrind`` and
counts the instructions each executes:

* eager: **ts** (the ``ScopedModule``), **(a)** idiomatic ``nn.Linear``, **(b)** raw tied
  ``nn.Parameter``s;
* compiled (``fullgraph=True``): ts and (b) through ``torch.compile(module)`` (a wrapper
  module; for ts, every Dynamo guard) and through ``module.compile()`` (in place; for ts,
  ``ts.guard_filter``), each ts path against (b) compiled the same way.

Each model runs in a process of its own, twice: ``--base`` steps and ``--base + --steps`` steps,
after the same warm-up (and compilation, from torch's on-disk caches, which a native run fills
first). The difference divided by ``--steps`` is one step's instructions, free of start-up,
imports and compiling. Thread pools get one thread (``OMP_NUM_THREADS`` and friends), because
an idle pool thread spinning for work executes a number of instructions that changes from run
to run, and every process hashes strings with the same seed.

Two identical processes differ by 0.5–4 million instructions (at 1000 steps, up to 0.4 % of a
step); with another hash seed a model's count moves by up to about 1 % (dicts probe
differently), and that much is the figures' uncertainty. Instructions are not time — a cache
miss costs more than an addition — but at hidden 16 / batch 1 all the models launch the same
kernels and differ only in host-side Python, and there the instruction ratio follows the time
ratio without the noise. Goals as in ``bench_overhead.py``: eager ts/(a) ≤ 1.00, ts/(b) ≤ 1.05;
compiled ts/(b) ≤ 1.02.

Needs valgrind. Under it a process runs about 50× slower, so the default run (14 processes,
``--jobs`` at a time) takes 10–20 minutes on a 2-core machine.

Run: ``python benchmarks/bench_instructions.py [--steps 1000] [--hidden 16] [--batch 1]
[--no-compile] [--jobs 2]``
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Tuple

EAGER = ("ts", "idiomatic", "raw")
#: The compiled kinds: which model, and whether compiled in place (else by torch.compile).
COMPILED = {"ts compiled": ("ts", False), "raw compiled": ("raw", False),
            "ts.compile()": ("ts", True), "raw.compile()": ("raw", True)}
#: The workers' environment: one thread per pool, and one string-hash seed (dict probe counts
#: depend on it), so that two processes of a model differ only in the steps they run.
WORKER_ENV = dict({name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                          "MKL_NUM_THREADS")}, PYTHONHASHSEED="0")


def worker(kind: str, steps: int, hidden: int, batch: int) -> None:
    """Builds ``kind``, warms it up (compiling it where asked) and runs ``steps`` more steps."""
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bench_overhead as bo

    torch.set_num_threads(1)
    a, b, models = bo.make_models(hidden, batch, "cpu")
    if kind in COMPILED:
        name, in_place = COMPILED[kind]
        model = bo.compile_model(models[name], in_place)
    else:
        model = models[kind]
    params = list(model.parameters())
    for _ in range(20 + steps):             # the same 20 warm-up steps in every process
        for p in params:
            p.grad = None
        bo._step(model, a, b)


def _worker(kind: str, steps: int, hidden: int, batch: int) -> List[str]:
    """The command line of a worker process (see ``worker``)."""
    return [sys.executable, os.path.abspath(__file__), "--worker", kind, str(steps), str(hidden),
            str(batch)]


def count(kind: str, steps: int, hidden: int, batch: int, valgrind: str) -> int:
    """Instructions of a worker process running ``steps`` steps of ``kind``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cachegrind.out")
        subprocess.run([valgrind, "--tool=cachegrind", "--cache-sim=no",
                        f"--cachegrind-out-file={out}"] + _worker(kind, steps, hidden, batch),
                       check=True, env=dict(os.environ, **WORKER_ENV),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            summary = re.search(r"^summary: (\d+)", f.read(), re.MULTILINE)
    if summary is None:
        raise RuntimeError(f"no instruction count in cachegrind's output for {kind!r}")
    return int(summary.group(1))


def per_step(kinds: Tuple[str, ...], args: argparse.Namespace,
             valgrind: str) -> Dict[str, float]:
    """Instructions per training step of each kind (``--jobs`` processes at a time)."""
    for kind in kinds:
        if "compile" in kind:   # fill torch's on-disk compile caches first, natively, so that
            # both counted processes find them filled and compile alike
            subprocess.run(_worker(kind, 0, args.hidden, args.batch), check=True,
                           env=dict(os.environ, **WORKER_ENV))
    runs: List[Tuple[str, int]] = [(kind, n) for kind in kinds
                                   for n in (args.base, args.base + args.steps)]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        counts = list(pool.map(lambda run: count(run[0], run[1], args.hidden, args.batch,
                                                 valgrind), runs))
    totals = dict(zip(runs, counts))
    return {kind: (totals[kind, args.base + args.steps] - totals[kind, args.base]) / args.steps
            for kind in kinds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", nargs=4, metavar=("KIND", "STEPS", "HIDDEN", "BATCH"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=1000, help="steps counted per model")
    parser.add_argument("--base", type=int, default=100,
                        help="steps of the baseline process, subtracted")
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if args.worker:
        kind, steps, hidden, batch = args.worker
        worker(kind, int(steps), int(hidden), int(batch))
        return
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        sys.exit("bench_instructions.py needs valgrind on the PATH (e.g. apt install valgrind)")

    import torch

    print(f"torch {torch.__version__}; instructions per training step (forward + backward), "
          f"hidden {args.hidden} / batch {args.batch}, counted over {args.steps} steps "
          f"(cachegrind, one thread)")
    eager = per_step(EAGER, args, valgrind)
    print(f"eager:    ts {eager['ts']:,.0f}  (a) {eager['idiomatic']:,.0f}  "
          f"(b) {eager['raw']:,.0f}  |  ts/(a) {eager['ts'] / eager['idiomatic']:.3f}  "
          f"ts/(b) {eager['ts'] / eager['raw']:.3f}")
    if args.no_compile:
        return
    compiled = per_step(tuple(COMPILED), args, valgrind)
    print(f"compiled: torch.compile: ts {compiled['ts compiled']:,.0f}  "
          f"(b) {compiled['raw compiled']:,.0f}  "
          f"ts/(b) {compiled['ts compiled'] / compiled['raw compiled']:.3f}  |  "
          f".compile(): ts {compiled['ts.compile()']:,.0f}  (b) {compiled['raw.compile()']:,.0f}  "
          f"ts/(b) {compiled['ts.compile()'] / compiled['raw.compile()']:.3f}")


if __name__ == "__main__":
    main()
