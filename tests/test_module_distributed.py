"""``ScopedModule`` under PyTorch's own distributed engines: DDP and FSDP2, 2 gloo processes on CPU.

DESIGN §2.4, issue 3 items 6 and 8: a siamese ``ScopedModule`` (towers tied by
``variable_scope("tower", reuse=...)``) trains under ``DistributedDataParallel`` to the same weights
as one process on the whole batch, and its moving statistic (``trainable=False``, a buffer) stays
equal across ranks; two tower modules on one store are one ``ts.sharing_groups`` group, sharded
together with ``fully_shard([...])``, and train under FSDP2 to the single-process result with the
tie kept.

The workers are this file run as a script (``python <this file> <rank> <world> <port> <dir>``),
two processes that run every job in turn, once for the whole module (torch's imports, DDP's lazy
import of dynamo included, cost far more than the jobs). They are plain subprocesses, not pickled
functions: pytest imports test files with ``--import-mode=importlib``, under a name a spawned child
could not import. The rendezvous is a ``TCPStore`` the test process hosts on 127.0.0.1 (port 0:
the OS picks a free port, and no other process can take it before the workers connect); gloo is
pinned to the loopback interface. Data go to the workers, and results come back, as
``torch.save`` files in a pytest temporary directory. A job that raises leaves its traceback as
its result, and the tests that read that job fail with it; a worker that dies or hangs fails every
test with both workers' output (a hung worker dumps its stack before the deadline). The
references run in the test process with the same seed, data and code. Everything is float64, so
"equal" is a 1e-10 relative tolerance.
"""

import datetime
import faulthandler
import os
import socket
import subprocess
import sys
import time
import traceback

import pytest
import torch
from torch import nn

import torchscope as ts

WORLD = 2
STEPS = 4
LR = 0.1
MOMENTUM = 0.75          # of the moving mean
D_IN, HIDDEN, D_OUT = 6, 8, 4
BATCH = 8                # each rank trains on BATCH // WORLD rows
DTYPE = torch.float64
DEADLINE_S = 45.0        # for the worker processes (they take ~10 s)
TOL = dict(rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- the models
class Siamese(ts.ScopedModule):
    """Two towers sharing every variable by ``reuse``; ``tower/moving_mean`` (trainable=False) is
    updated in place by each tower in training mode and used only in eval mode, as batch norm's
    moving mean is."""

    def tower(self, x, reuse):
        with ts.variable_scope("tower", reuse=reuse):
            with ts.variable_scope("layer1"):
                w1 = ts.get_variable("w", [D_IN, HIDDEN], dtype=DTYPE)
                b1 = ts.get_variable("b", [HIDDEN], dtype=DTYPE,
                                     initializer=ts.random_normal_initializer(stddev=0.1))
            h = torch.tanh(x @ w1 + b1)
            mean = ts.get_variable("moving_mean", [HIDDEN], dtype=DTYPE, trainable=False,
                                   initializer=ts.zeros_initializer())
            if self.training:
                with torch.no_grad():
                    mean.mul_(MOMENTUM).add_(h.mean(0), alpha=1 - MOMENTUM)
            else:
                h = h - mean
            with ts.variable_scope("layer2"):
                w2 = ts.get_variable("w", [HIDDEN, D_OUT], dtype=DTYPE)
                b2 = ts.get_variable("b", [D_OUT], dtype=DTYPE,
                                     initializer=ts.random_normal_initializer(stddev=0.1))
            return h @ w2 + b2

    def forward(self, a, b):
        return self.tower(a, reuse=False), self.tower(b, reuse=True)


def siamese_loss(outputs, target):
    ya, yb = outputs
    return ((ya * yb).sum(1) - target).pow(2).mean()


def build_siamese(data):
    torch.manual_seed(0)
    model = Siamese()
    model.eval()                  # the building pass must not move the moving mean
    model.build(data["a"][:2], data["b"][:2])
    return model.train()


def _tower(reuse):
    def tower(x):
        with ts.variable_scope("tower", reuse=reuse):
            w = ts.get_variable("w", [D_IN, HIDDEN], dtype=DTYPE)
            b = ts.get_variable("b", [HIDDEN], dtype=DTYPE,
                                initializer=ts.random_normal_initializer(stddev=0.1))
            return torch.tanh(x @ w + b)
    return tower


def _head(h):
    w = ts.get_variable("w", [HIDDEN, D_OUT], dtype=DTYPE)
    b = ts.get_variable("b", [D_OUT], dtype=DTYPE,
                        initializer=ts.random_normal_initializer(stddev=0.1))
    return h @ w + b


class TwoTowers(nn.Module):
    """Two ``ScopedModule`` towers on one store (``tower/w``, ``tower/b`` tied) and a head of
    its own (``head/w``, ``head/b``, on the same store but registered on the head alone)."""

    def __init__(self):
        super().__init__()
        store = ts.ScopedParameterStore()
        self.tower_a = ts.ScopedModule.wrap(_tower(reuse=False), store=store)
        self.tower_b = ts.ScopedModule.wrap(_tower(reuse=True), store=store)
        self.head = ts.ScopedModule.wrap(_head, name="head", store=store)

    def forward(self, a, b):
        return self.head(self.tower_a(a) * self.tower_b(b))


def two_towers_loss(output, target):
    return (output.sum(1) - target).pow(2).mean()


def build_two_towers(data):
    torch.manual_seed(0)
    model = TwoTowers()
    with torch.no_grad():
        model(data["a"][:2], data["b"][:2])       # the first pass of each ScopedModule
    return model


def make_data():
    gen = torch.Generator().manual_seed(1234)
    return {"a": torch.randn(STEPS, BATCH, D_IN, generator=gen, dtype=DTYPE),
            "b": torch.randn(STEPS, BATCH, D_IN, generator=gen, dtype=DTYPE),
            "target": torch.rand(STEPS, BATCH, generator=gen, dtype=DTYPE)}


def full_value(tensor):
    """A detached full copy (a DTensor is gathered: a collective, every rank must call it)."""
    value = tensor.full_tensor() if hasattr(tensor, "full_tensor") else tensor
    return value.detach().clone()


def full_params(model):
    """name -> full value of each parameter of ``model``."""
    return {name: full_value(param) for name, param in model.named_parameters()}


def store_state(module):
    """For each variable of ``module``'s store: (is it the module's registered tensor, its full
    value)."""
    store, own = module.store, dict(module.named_parameters())
    own.update(module.named_buffers())
    return {name: (store[name] is own.get(name), full_value(store[name]))
            for name in sorted(own)}


def train(model, loss_fn, data, rows=slice(None)):
    """SGD on ``model`` over every step of ``data``, on ``rows`` of each batch (default: all)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    for step in range(STEPS):
        optimizer.zero_grad()
        outputs = model(data["a"][step, rows], data["b"][step, rows])
        loss_fn(outputs, data["target"][step, rows]).backward()
        optimizer.step()
    return model


def rank_rows(rank, world):
    """The rows of each batch that ``rank`` trains on."""
    return slice(rank * BATCH // world, (rank + 1) * BATCH // world)


def train_one_process(build, loss_fn, data):
    """The reference: ``build(data)`` trained on the whole batch of every step, in this process."""
    return train(build(data), loss_fn, data)


# --------------------------------------------------------------------------- the worker jobs
def job_ddp(rank, world, data):
    from torch.nn.parallel import DistributedDataParallel as DDP

    model = build_siamese(data)
    ddp = DDP(model)      # forward_sync_buffers (broadcast_buffers) is on by default
    rows = rank_rows(rank, world)
    train(ddp, siamese_loss, data, rows)
    # DDP broadcasts buffers from rank 0 before each forward: one more (eval, no update) pass
    # makes every rank hold rank 0's moving mean.
    ddp.eval()
    with torch.no_grad():
        ddp(data["a"][0, rows], data["b"][0, rows])
    buffer = model.get_buffer("tower/moving_mean")
    return {"params": full_params(model),
            "store": store_state(model),
            "moving_mean": buffer.detach().clone(),
            "buffer_in_parameters": any(p is buffer for p in model.parameters()),
            "parameter_names": [name for name, _ in model.named_parameters()]}


def job_fsdp(rank, world, data):
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    model = build_two_towers(data)
    groups = ts.sharing_groups(model)
    mesh = init_device_mesh("cpu", (world,))
    for group in groups:
        fully_shard([model.get_submodule(name) for name in group], mesh=mesh)
    fully_shard(model, mesh=mesh)
    tied_after_shard = model.tower_a.get_parameter("tower/w") is model.tower_b.get_parameter(
        "tower/w")
    store_after_shard = {name: model.tower_a.store[name] is param
                         for name, param in [*model.tower_a.named_parameters(),
                                             *model.head.named_parameters()]}
    # What each tower's pass sees: FSDP's pre-forward hook (registered first) has unsharded the
    # group, so the binding is a plain full-shape Parameter, the same one on both towers.
    seen = {}

    def record(module, args):            # returns None: the inputs stay as they are
        seen.setdefault(module, module._parameters["tower/w"])

    hooks = [tower.register_forward_pre_hook(record) for tower in (model.tower_a, model.tower_b)]
    train(model, two_towers_loss, data, rank_rows(rank, world))
    for hook in hooks:
        hook.remove()
    tower_w = model.tower_a.get_parameter("tower/w")
    return {"groups": groups,
            "tied_after_shard": tied_after_shard,
            "tied_after_training": tower_w is model.tower_b.get_parameter("tower/w"),
            "tower_w_is_sharded": type(tower_w).__name__ == "DTensor",
            "tied_in_forward": seen[model.tower_a] is seen[model.tower_b],
            "forward_binding": (type(seen[model.tower_a]).__name__,
                                tuple(seen[model.tower_a].shape)),
            "store_after_shard": store_after_shard,
            "store_after_training": {**store_state(model.tower_a), **store_state(model.head)},
            "parameter_names": [name for name, _ in model.named_parameters()],
            "params": full_params(model)}


JOBS = {"ddp": job_ddp, "fsdp": job_fsdp}


def worker_main(rank, world, port, directory):
    """One rank: joins the gloo group through the test's store and runs every job in turn. A job
    that raises leaves its traceback as its result; the next job still runs."""
    import torch.distributed as dist

    torch.set_num_threads(1)
    faulthandler.dump_traceback_later(DEADLINE_S - 10, exit=True)   # a hang shows where it is
    timeout = datetime.timedelta(seconds=DEADLINE_S)
    store = dist.TCPStore("127.0.0.1", port, is_master=False, timeout=timeout)
    dist.init_process_group("gloo", store=store, rank=rank, world_size=world, timeout=timeout)
    data = torch.load(os.path.join(directory, "data.pt"))
    for job, run in JOBS.items():
        try:
            result = run(rank, world, data)
        except Exception:
            result = {"error": traceback.format_exc()}
        torch.save(result, os.path.join(directory, f"{job}.rank{rank}.pt"))
    dist.destroy_process_group()


# --------------------------------------------------------------------------- the launcher
def _loopback_interface():
    try:
        names = {name for _, name in socket.if_nameindex()}
    except (AttributeError, OSError):      # no interface list here: leave gloo's default
        return None
    return next((name for name in ("lo", "lo0") if name in names), None)


def run_workers(directory, data):
    """Runs every job on WORLD ranks; returns ``{job: [result of rank 0, ...]}``, or fails with
    every worker's output (its traceback, or the deadline that was hit)."""
    import torch.distributed as dist

    torch.save(data, os.path.join(directory, "data.pt"))
    host = dist.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False,
                         timeout=datetime.timedelta(seconds=DEADLINE_S))
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(host.port),
               WORLD_SIZE=str(WORLD), OMP_NUM_THREADS="1")
    interface = _loopback_interface()
    if interface is not None:
        env["GLOO_SOCKET_IFNAME"] = interface
    procs, logs = [], []
    for rank in range(WORLD):
        log = open(os.path.join(directory, f"rank{rank}.log"), "w+")
        logs.append(log)
        procs.append(subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), str(rank), str(WORLD), str(host.port),
             str(directory)],
            env=dict(env, RANK=str(rank)), stdout=log, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + DEADLINE_S
    failure = None
    while failure is None and any(proc.poll() is None for proc in procs):
        if any(proc.returncode not in (None, 0) for proc in procs):
            failure = "a worker failed"            # the others would wait for it forever
        elif time.monotonic() > deadline:
            failure = f"the workers did not finish within {DEADLINE_S:.0f} s"
        else:
            time.sleep(0.05)
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    if failure is None and any(proc.returncode != 0 for proc in procs):
        failure = "a worker failed"
    outputs = []
    for rank, log in enumerate(logs):
        log.seek(0)
        outputs.append(f"--- rank {rank} (exit {procs[rank].returncode}) ---\n{log.read()}")
        log.close()
    assert failure is None, failure + "\n" + "\n".join(outputs)
    return {job: [torch.load(os.path.join(directory, f"{job}.rank{rank}.pt"))
                  for rank in range(WORLD)] for job in JOBS}


# --------------------------------------------------------------------------- the tests
@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    """Every job's per-rank results, from one run of the worker processes."""
    return run_workers(tmp_path_factory.mktemp("workers"), make_data())


def results_of(workers, job):
    """The job's results by rank; a rank where it raised fails the test with its traceback."""
    for rank, result in enumerate(workers[job]):
        if "error" in result:
            pytest.fail(f"{job} raised on rank {rank}:\n{result['error']}", pytrace=False)
    return workers[job]


def test_siamese_under_ddp_two_gloo_ranks_matches_one_process_on_the_whole_batch(workers):
    """Item 8 (DDP): half a batch per rank, gradients averaged by DDP = the whole batch on one
    process: the same weights after STEPS SGD steps, on both ranks."""
    data, results = make_data(), results_of(workers, "ddp")
    expected = full_params(train_one_process(build_siamese, siamese_loss, data))
    assert sorted(expected) == ["tower/layer1/b", "tower/layer1/w", "tower/layer2/b",
                                "tower/layer2/w"]
    initial = full_params(build_siamese(data))
    for rank, result in enumerate(results):
        assert result["parameter_names"] == list(expected)
        for name, value in expected.items():
            assert not torch.allclose(value, initial[name], **TOL), f"{name} never trained"
            assert torch.allclose(result["params"][name], value, **TOL), (
                f"rank {rank}: {name} differs from one-process training by "
                f"{(result['params'][name] - value).abs().max().item():.3g}")
        # DDP keeps the module's tensors: the store still holds them, trained.
        for name, (is_module_tensor, value) in result["store"].items():
            assert is_module_tensor is True, f"rank {rank}: store[{name!r}] is not the module's"
            if name in expected:
                assert torch.allclose(value, expected[name], **TOL), name


def test_siamese_under_ddp_moving_mean_is_a_buffer_equal_across_ranks(workers):
    """Item 6: the trainable=False moving mean is a buffer (not in parameters(), so no optimizer
    or gradient reduction touches it), updated in place by both towers, and DDP's
    broadcast_buffers makes every rank hold rank 0's value."""
    data, results = make_data(), results_of(workers, "ddp")

    # Rank 0's moving mean: its own half batch through both towers, with the weights of each step
    # (the same as one-process training, the previous test). The training forward does not read
    # the mean, so the reference can track it on the side.
    reference = build_siamese(data)
    mean = reference.get_buffer("tower/moving_mean")
    assert all(p is not mean for p in reference.parameters())
    rows = rank_rows(0, WORLD)
    optimizer = torch.optim.SGD(reference.parameters(), lr=LR)
    expected = torch.zeros(HIDDEN, dtype=DTYPE)
    for step in range(STEPS):
        with torch.no_grad():
            mean.copy_(expected)
            reference(data["a"][step, rows], data["b"][step, rows])
            expected = mean.clone()
        optimizer.zero_grad()
        siamese_loss(reference(data["a"][step], data["b"][step]), data["target"][step]).backward()
        optimizer.step()

    assert expected.abs().min() > 1e-3                      # it moved, in every component
    for rank, result in enumerate(results):
        assert result["buffer_in_parameters"] is False
        assert "tower/moving_mean" not in result["parameter_names"]
        assert torch.allclose(result["moving_mean"], expected, **TOL), (
            f"rank {rank}: moving mean {result['moving_mean']} != rank 0's {expected}")


def test_two_tower_modules_on_one_store_are_one_sharing_group():
    """Item 8 (FSDP2 helper): towers on one store share ``tower/w`` and ``tower/b``, so they are
    one group; the head, on the same store but with variables of its own, is in none."""
    model = build_two_towers(make_data())
    assert ts.sharing_groups(model) == [["tower_a", "tower_b"]]
    assert model.tower_a.get_parameter("tower/w") is model.tower_b.get_parameter("tower/w")
    assert [name for name, _ in model.named_parameters()] == [
        "tower_a.tower/w", "tower_a.tower/b", "head.head/w", "head.head/b"]


def test_two_towers_under_fsdp2_two_gloo_ranks_match_one_process_and_keep_the_tie(workers):
    """Item 8 (FSDP2): each sharing group sharded with one ``fully_shard([...])``, then the root;
    2 gloo ranks on half batches end with the full parameters of one-process training, and
    ``tower/w`` is one (sharded) parameter object on both towers before and after training."""
    data, results = make_data(), results_of(workers, "fsdp")
    expected = full_params(train_one_process(build_two_towers, two_towers_loss, data))
    initial = full_params(build_two_towers(data))
    for rank, result in enumerate(results):
        assert result["groups"] == [["tower_a", "tower_b"]]
        assert result["tied_after_shard"] is True
        assert result["tied_after_training"] is True
        assert result["tower_w_is_sharded"] is True
        assert result["tied_in_forward"] is True
        assert result["forward_binding"] == ("Parameter", (D_IN, HIDDEN))
        assert result["parameter_names"] == list(expected)
        for name, value in expected.items():
            assert not torch.allclose(value, initial[name], **TOL), f"{name} never trained"
            assert torch.allclose(result["params"][name], value, **TOL), (
                f"rank {rank}: {name} differs from one-process training by "
                f"{(result['params'][name] - value).abs().max().item():.3g}")


def test_two_towers_under_fsdp2_store_holds_the_sharded_parameters_and_their_trained_values(
        workers):
    """DESIGN §2.3 "ties never break silently" under FSDP2: ``fully_shard`` registers new
    (DTensor) parameters on the modules; the store must follow, as it does after ``.to()``, so
    ``store[name]``, ``ts.trainable_variables()``, collections, regularization outside a pass and
    ``save_safetensors(store)`` see the parameters that train, not the pre-shard tensors."""
    data, results = make_data(), results_of(workers, "fsdp")
    expected = full_params(train_one_process(build_two_towers, two_towers_loss, data))
    expected = {name.split(".", 1)[1]: value for name, value in expected.items()}
    for rank, result in enumerate(results):
        store = result["store_after_training"]
        assert sorted(store) == sorted(expected)
        stale = [name for name, (_, value) in store.items()
                 if not torch.allclose(value, expected[name], **TOL)]
        assert stale == [], f"rank {rank}: the store holds untrained values of {stale}"
        assert all(is_module_tensor for is_module_tensor, _ in store.values()), f"rank {rank}"
        assert result["store_after_shard"] == dict.fromkeys(expected, True), f"rank {rank}"


if __name__ == "__main__":
    try:
        worker_main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)        # skips torch's interpreter teardown (seconds); the results are saved
