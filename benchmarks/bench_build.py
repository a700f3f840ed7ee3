"""What building a model costs: µs per variable for creating N small variables, N = 1k, 10k, 100k.

Each N is built in a fresh store (``with ts.ScopedParameterStore().as_default():``), the way
TF1 code builds a graph: every variable comes from ``ts.get_variable`` inside the variable
scopes of its layer. The mix of scopes is that of a real network, in blocks of 100 variables,
all under ``model/block_<b>/``:

* 20 layer scopes with 2 variables each — ``dense_<j>/kernel`` [4, 4] (default glorot_uniform)
  and ``dense_<j>/bias`` [4] (zeros): many scopes with few variables (40 %);
* 5 batch-norm scopes with 4 variables each — ``gamma``, ``beta`` and the non-trainable
  ``moving_mean``, ``moving_variance`` [4] (20 %);
* 1 wide scope ``features`` with 40 variables ``f_<k>`` [4] (embedding-table style): a few
  scopes with many variables (40 %).

The plain-PyTorch equivalent, measured in the same run on the same names and shapes, fills a
dict with ``nn.Parameter(torch.empty(shape).uniform_(-limit, limit))`` (zeros / ones where the
torchscope variable uses them); ``ratio`` is torchscope's time over it.

Printed per N: µs per variable for torchscope and for plain PyTorch, and their ratio; then the
per-variable cost growth 100k / 1k (O(N) building means ≈ 1). Targets (DESIGN §4): ≤ 20 µs
per variable at 10k on a 2-core CPU, growth ≤ 1.5×; TF1 graph mode needs about 7 ms per
variable.

Each size is built several times, interleaved with the plain builds, and the best time counts
(at least ``--repeats`` builds, more for small N: 50 at 1k, 20 at 10k, 3 at 100k by default).

Python's garbage collector is part of what grows with N: a full collection walks every object
the process tracks, and the collector runs one each time the tracked objects have grown by a
quarter, so a 1k build triggers none and a 100k build several, each walking the ~170k objects
that importing torch made too. The ``gc`` columns print, for the best build of each size, the
µs per variable spent inside the collector (timed through ``gc.callbacks``) and its full
collections, and the growth is printed a second time with that time taken out. What remains
is mostly memory: a 1k build reuses memory the build before it freed, still in the CPU's caches,
where every object of a 100k build is memory the CPU has not touched yet (under cachegrind, 29
last-level cache misses per variable at 100k against 0.4 at 1k; plain PyTorch: 20). A line
after the table prints the bytes per variable a build keeps on Python's heap, for both builders.

Run: ``python benchmarks/bench_build.py [--repeats 3] [--sizes 1000 10000 100000]
[--profile]`` (``--profile`` runs cProfile on the 10k build and prints the top functions).
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import time
from typing import Callable, Dict, List, Tuple

import torch
from torch import nn

import torchscope as ts

BLOCK = 100                 # variables per block
LAYERS, BATCH_NORMS, FEATURES = 20, 5, 40


def build_torchscope(blocks: int) -> ts.ScopedParameterStore:
    """``blocks`` × 100 variables through ts.get_variable, each in its layer's scope."""
    store = ts.ScopedParameterStore()
    zeros, ones = ts.zeros_initializer(), ts.ones_initializer()
    with store.as_default():
        with ts.variable_scope("model"):
            for b in range(blocks):
                with ts.variable_scope(f"block_{b}"):
                    for j in range(LAYERS):
                        with ts.variable_scope(f"dense_{j}"):
                            ts.get_variable("kernel", [4, 4])
                            ts.get_variable("bias", [4], initializer=zeros)
                    for j in range(BATCH_NORMS):
                        with ts.variable_scope(f"bn_{j}"):
                            ts.get_variable("gamma", [4], initializer=ones)
                            ts.get_variable("beta", [4], initializer=zeros)
                            ts.get_variable("moving_mean", [4], initializer=zeros,
                                            trainable=False)
                            ts.get_variable("moving_variance", [4], initializer=ones,
                                            trainable=False)
                    with ts.variable_scope("features"):
                        for k in range(FEATURES):
                            ts.get_variable(f"f_{k}", [4])
    return store


def _uniform(shape: List[int], limit: float) -> nn.Parameter:
    return nn.Parameter(torch.empty(shape).uniform_(-limit, limit))


def build_plain(blocks: int) -> Dict[str, nn.Parameter]:
    """The same names, shapes and initial distributions in a dict of nn.Parameters."""
    params: Dict[str, nn.Parameter] = {}
    kernel_limit = math.sqrt(6 / (4 + 4))       # glorot_uniform of [4, 4]
    vector_limit = math.sqrt(6 / (4 + 4))       # glorot_uniform of [4]: fans 4 / 4
    for b in range(blocks):
        prefix = f"model/block_{b}/"
        for j in range(LAYERS):
            scope = f"{prefix}dense_{j}/"
            params[scope + "kernel"] = _uniform([4, 4], kernel_limit)
            params[scope + "bias"] = nn.Parameter(torch.zeros(4))
        for j in range(BATCH_NORMS):
            scope = f"{prefix}bn_{j}/"
            params[scope + "gamma"] = nn.Parameter(torch.ones(4))
            params[scope + "beta"] = nn.Parameter(torch.zeros(4))
            params[scope + "moving_mean"] = nn.Parameter(torch.zeros(4), requires_grad=False)
            params[scope + "moving_variance"] = nn.Parameter(torch.ones(4), requires_grad=False)
        for k in range(FEATURES):
            params[f"{prefix}features/f_{k}"] = _uniform([4], vector_limit)
    return params


class _GcClock:
    """Wall time spent inside Python's garbage collector, and its full collections, read from
    ``gc.callbacks`` while installed (``with _GcClock() as clock:``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._start = 0.0

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.full += info["generation"] == 2

    def __enter__(self) -> "_GcClock":
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def _time(build: Callable[[int], object], blocks: int) -> Tuple[float, float, float, int]:
    """(wall seconds, CPU seconds of this process, wall seconds in the garbage collector, full
    collections) for one build."""
    gc.collect()
    with _GcClock() as clock:
        start, start_cpu = time.perf_counter(), time.process_time()
        result = build(blocks)
        elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    assert len(result) == blocks * BLOCK      # type: ignore[arg-type]
    del result
    return elapsed, elapsed_cpu, clock.seconds, clock.full


def measure(n: int, repeats: int) -> Dict[str, float]:
    """Best-of-``repeats`` µs per variable for both builders, interleaved. CPU time is
    reported too: on a shared 2-core machine wall time also counts other processes' turns; and
    so is the garbage collector's share of the best build (time in it, full collections)."""
    blocks = n // BLOCK
    ts_times, plain_times = [], []
    for _ in range(repeats):
        ts_times.append(_time(build_torchscope, blocks))
        plain_times.append(_time(build_plain, blocks))
    per_var = 1e6 / n
    ts_best, plain_best = min(ts_times), min(plain_times)
    ts_us, plain_us = ts_best[0] * per_var, plain_best[0] * per_var
    ts_cpu = min(t[1] for t in ts_times) * per_var
    plain_cpu = min(t[1] for t in plain_times) * per_var
    return {"n": n, "ts": ts_us, "plain": plain_us, "ratio": ts_us / plain_us,
            "ts_median": statistics.median(t[0] for t in ts_times) * per_var,
            "ts_cpu": ts_cpu, "plain_cpu": plain_cpu, "ratio_cpu": ts_cpu / plain_cpu,
            "ts_gc": ts_best[2] * per_var, "ts_full": ts_best[3],
            "plain_gc": plain_best[2] * per_var, "plain_full": plain_best[3]}


def repeats_for(n: int, repeats: int) -> int:
    """Builds per size: at least ``repeats``, more for small N so that each size gets about
    the same measuring time. A 1k build takes ~20 ms, and the best of a few such short runs
    swings by a third on a shared VM; the growth ratio divides by it."""
    return max(repeats, min(50, 200000 // n))


def outside_gc(row: Dict[str, float], key: str) -> float:
    """µs/var of ``key`` ("ts" or "plain") outside the garbage collector, for one size's row."""
    return row[key] - row[key + "_gc"]


def python_heap_per_variable(build: Callable[[int], object], n: int) -> float:
    """Bytes per variable that a build of ``n`` keeps on Python's heap (``tracemalloc``: the
    objects, names and dicts; not the tensors' own memory, which torch allocates itself)."""
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = build(n // BLOCK)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del result
    return kept / n


def profile(n: int, top: int = 25) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    build_torchscope(n // BLOCK)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"\ncProfile of the {n} variable build (tottime):")
    stats.sort_stats("tottime").print_stats(top)
    print(f"cProfile of the {n} variable build (cumulative):")
    stats.sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(1)        # tiny tensors: threads only add noise
    for _ in range(3):              # warm-up: imports, lazy torch initialisation, caches
        build_torchscope(10)
        build_plain(10)
    print(f"torch {torch.__version__}, torchscope {ts.__version__}; best of "
          + ", ".join(f"{repeats_for(n, args.repeats)} at {n}" for n in args.sizes))
    print(f"the garbage collector tracks {len(gc.get_objects())} objects before the first build")
    print("wall time, best of the repeats (CPU time of this process in brackets); gc: of the "
          "best build, µs/var spent in the garbage collector / its full collections")
    print(f"{'N':>8}  {'torchscope µs/var':>18}  {'(median)':>9}  {'plain µs/var':>12}  "
          f"{'ratio':>6}  {'(cpu: ts':>9}  {'plain':>6}  {'ratio)':>7}  {'gc: ts':>11}  "
          f"{'plain':>10}")
    rows = []
    for n in args.sizes:
        row = measure(n, repeats_for(n, args.repeats))
        rows.append(row)
        print(f"{n:>8}  {row['ts']:>18.2f}  {row['ts_median']:>9.2f}  {row['plain']:>12.2f}  "
              f"{row['ratio']:>6.2f}  {row['ts_cpu']:>9.2f}  {row['plain_cpu']:>6.2f}  "
              f"{row['ratio_cpu']:>7.2f}  {row['ts_gc']:>6.2f} / {row['ts_full']:<2}"
              f"{row['plain_gc']:>6.2f} / {row['plain_full']:<2}")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        growth = last["ts"] / first["ts"]
        print(f"growth of the per-variable cost {last['n']} / {first['n']}: "
              f"{growth:.2f}x wall, {last['ts_cpu'] / first['ts_cpu']:.2f}x CPU "
              f"(plain PyTorch: {last['plain'] / first['plain']:.2f}x wall, "
              f"{last['plain_cpu'] / first['plain_cpu']:.2f}x CPU)")
        print(f"  the same outside the garbage collector: "
              f"{outside_gc(last, 'ts') / outside_gc(first, 'ts'):.2f}x (plain PyTorch: "
              f"{outside_gc(last, 'plain') / outside_gc(first, 'plain'):.2f}x)")
        if first["n"] == 1000 and last["n"] == 100000:
            print(f"target growth <= 1.5x from 1k to 100k: "
                  f"{'met' if growth <= 1.5 else 'MISSED'} ({growth:.2f}x wall)")
    print(f"Python heap kept per variable (10k build, tracemalloc): torchscope "
          f"{python_heap_per_variable(build_torchscope, 10000):.0f} B, plain PyTorch "
          f"{python_heap_per_variable(build_plain, 10000):.0f} B")
    at_10k = [r for r in rows if r["n"] == 10000]
    if at_10k:
        verdict = "met" if at_10k[0]["ts"] <= 20 else "MISSED"
        print(f"target <= 20 µs/var at 10k: {verdict} ({at_10k[0]['ts']:.2f} wall, "
              f"{at_10k[0]['ts_cpu']:.2f} CPU)")
    if args.profile:
        profile(10000)


if __name__ == "__main__":
    main()
