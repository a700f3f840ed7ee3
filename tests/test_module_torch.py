"""ScopedModule inside PyTorch's machinery: functional_call, vmap ensembles, hooks, deepcopy,
state_dict, torch.compile and torch.export — names resolve to the module's current bindings."""

import copy
import threading

import pytest
import torch

import torchscope as ts
from tf1_helpers import SiameseMLP as MLP, tower_module


@pytest.fixture
def net():
    torch.manual_seed(0)
    return MLP().build(torch.randn(3, 8), torch.randn(3, 8))


def test_functional_call_uses_the_passed_tensors(net):
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    zeros = {name: torch.zeros_like(p) for name, p in net.named_parameters()}
    out_a, out_b = torch.func.functional_call(net, zeros, (a, b))
    assert torch.equal(out_a, torch.zeros(3, 8)) and torch.equal(out_b, torch.zeros(3, 8))
    # the module's own parameters are back afterwards
    assert not torch.equal(net(a, b)[0], torch.zeros(3, 8))


def test_functional_call_gradients_flow_to_the_passed_tensors(net):
    params = {name: p.detach().clone().requires_grad_() for name, p in net.named_parameters()}
    out_a, _ = torch.func.functional_call(net, params, (torch.randn(3, 8), torch.randn(3, 8)))
    out_a.sum().backward()
    assert params["tower/fc0/w"].grad is not None
    assert net.get_parameter("tower/fc0/w").grad is None


def test_stack_module_state_vmap_ensemble_matches_each_member():
    torch.manual_seed(1)
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    members = [MLP().build(a, b) for _ in range(4)]
    params, buffers = torch.func.stack_module_state(members)
    base = copy.deepcopy(members[0]).to("meta")

    def call(p, bufs, x, y):
        return torch.func.functional_call(base, (p, bufs), (x, y))[0]

    stacked = torch.vmap(call, in_dims=(0, 0, None, None))(params, buffers, a, b)
    for i, member in enumerate(members):
        torch.testing.assert_close(stacked[i], member(a, b)[0])


def test_forward_hooks_see_inputs_and_outputs(net):
    seen = {}
    net.register_forward_pre_hook(lambda module, args: (args[0] * 0, args[1]))
    net.register_forward_hook(lambda module, args, out: seen.setdefault("out", out))
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    out_a, _ = net(a, b)
    assert seen["out"][0] is out_a
    # the pre-hook zeroed the first input: tower(0) = tanh(tanh(b0) @ w1 + b1) with zero biases
    assert torch.allclose(out_a, torch.zeros(3, 8))


def test_deepcopy_shares_within_itself_not_with_the_original(net):
    clone = copy.deepcopy(net)
    assert clone.get_parameter("tower/fc0/w") is not net.get_parameter("tower/fc0/w")
    assert clone.store is not net.store
    assert clone.store["tower/fc0/w"] is clone.get_parameter("tower/fc0/w")
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    torch.testing.assert_close(clone(a, b)[0], net(a, b)[0])
    with torch.no_grad():
        clone.get_parameter("tower/fc0/w").zero_()
    assert not torch.equal(net.get_parameter("tower/fc0/w"), torch.zeros(8, 8))
    assert torch.equal(clone(a, b)[1], clone(a, b)[1])


def test_deepcopy_of_module_keeps_ties_between_sharing_modules():
    store = ts.ScopedParameterStore()
    parent = torch.nn.ModuleDict({"a": tower_module(store, False),
                                  "b": tower_module(store, True)})
    parent["a"](torch.ones(1, 2)), parent["b"](torch.ones(1, 2))
    clone = copy.deepcopy(parent)
    w = clone["a"].get_parameter("tower/w")
    assert w is clone["b"].get_parameter("tower/w") is clone["a"].store["tower/w"]
    assert w is not parent["a"].get_parameter("tower/w")
    assert clone["a"].store is clone["b"].store is not store


def test_state_dict_round_trip_into_a_fresh_module(net):
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    fresh = MLP().build(a, b)
    fresh.load_state_dict(net.state_dict())
    torch.testing.assert_close(fresh(a, b)[0], net(a, b)[0])
    assert fresh.store["tower/fc0/w"] is fresh.get_parameter("tower/fc0/w")


def test_torch_save_load_of_a_built_module(tmp_path, net):
    path = tmp_path / "net.pt"
    torch.save(net, path)
    loaded = torch.load(path, weights_only=False)
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    torch.testing.assert_close(loaded(a, b)[0], net(a, b)[0])
    assert loaded.store["tower/fc1/b"] is loaded.get_parameter("tower/fc1/b")


def test_compile_fullgraph_has_no_graph_breaks_and_same_outputs(net):
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    explanation = torch._dynamo.explain(net)(a, b)
    assert explanation.graph_break_count == 0 and explanation.graph_count == 1
    compiled = torch.compile(net, fullgraph=True)
    for _ in range(2):
        expected = net(a, b)
        got = compiled(a, b)
        torch.testing.assert_close(got[0], expected[0])
        torch.testing.assert_close(got[1], expected[1])


@pytest.mark.parametrize("options", [None, {"guard_filter_fn": ts.guard_filter}],
                         ids=["every guard", "guard_filter"])
def test_compiled_pass_leaves_the_callers_scopes_and_default_store_as_they_were(net, options):
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    compiled = torch.compile(net, fullgraph=True, options=options)
    other = ts.ScopedParameterStore()
    for _ in range(2):      # the first call traces, the second runs the compiled code
        with other.as_default():
            with ts.variable_scope("outer", reuse=ts.AUTO_REUSE):
                got = compiled(a, b)
                assert ts.get_default_store() is other
                assert ts.get_variable_scope().name == "outer"
                assert ts.get_variable("u", [1]) is other["outer/u"]
        torch.testing.assert_close(got[0], net(a, b)[0])
    assert ts.get_default_store() is not other and ts.get_variable_scope().name == ""


def test_eager_and_compiled_passes_run_in_several_threads_at_once(net):
    """Each thread has its own scope state and stack of defaults: passes running at the same
    time in four threads (eager, and the compiled code replaying its writes) neither see nor
    disturb each other's."""
    compiled = torch.compile(net, fullgraph=True)
    inputs = [(torch.randn(3, 8), torch.randn(3, 8)) for _ in range(4)]
    expected = [net(a, b)[0] for a, b in inputs]
    compiled(*inputs[0])                          # compile once, before the threads start
    barrier = threading.Barrier(4)
    failures = []

    def work(i):
        try:
            barrier.wait(timeout=30)
            with ts.variable_scope(f"thread{i}"):
                for _ in range(20):
                    for model in (net, compiled):
                        torch.testing.assert_close(model(*inputs[i])[0], expected[i])
                    assert ts.get_variable_scope().name == f"thread{i}"
            assert ts.get_variable_scope().name == "" and ts.get_default_store() is not net.store
        except BaseException as error:            # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures[0]
    assert not any(thread.is_alive() for thread in threads)


def test_compiled_training_step_matches_eager(net):
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    twin = copy.deepcopy(net)
    compiled = torch.compile(twin, fullgraph=True)
    for model in (net, compiled):
        out_a, out_b = model(a, b)
        (out_a - out_b).square().sum().backward()
    for (name, p), q in zip(net.named_parameters(), twin.parameters()):
        torch.testing.assert_close(p.grad, q.grad, msg=name)


def test_export_traces_the_module(net):
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    exported = torch.export.export(net, (a, b))
    targets = {spec.target for spec in exported.graph_signature.input_specs
               if spec.kind.name == "PARAMETER"}
    assert targets == {"tower/fc0/w", "tower/fc0/b", "tower/fc1/w", "tower/fc1/b"}
    torch.testing.assert_close(exported.module()(a, b)[0], net(a, b)[0])


def test_variables_in_collections_resolve_to_current_bindings_in_a_pass(net):
    seen = []

    def peek(x):
        w = ts.get_variable("w", [1])
        seen.append(ts.trainable_variables()[0])
        return x * w

    module = ts.ScopedModule.wrap(peek)
    module(torch.ones(1))
    swapped = torch.full((1,), 7.0)
    torch.func.functional_call(module, {"w": swapped}, (torch.ones(1),))
    assert seen[0] is module.get_parameter("w") and seen[1] is swapped


def test_compiling_a_deep_copy_compiles_once(net):
    compiles = []

    def counting_backend(graph_module, example_inputs):
        compiles.append(graph_module)
        return graph_module.forward

    clone = copy.deepcopy(net)
    compiled = torch.compile(clone, backend=counting_backend, fullgraph=True)
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    for _ in range(3):
        compiled(a, b)
    assert len(compiles) == 1


def test_more_scoped_module_classes_compile_than_dynamos_recompile_limit():
    """torch.compile keeps at most ``recompile_limit`` (8) compiled entries per code object.
    Every ScopedModule class gets a pass of its own, as every nn.Module class has a forward of
    its own: ten classes compiled with fullgraph=True all compile and compute what eager does
    (with one code object shared by all passes, the ninth fails with FailOnRecompileLimitHit)."""
    config = torch._dynamo.config
    limit = getattr(config, "recompile_limit", None) or config.cache_size_limit  # torch < 2.7
    modules = []
    for i in range(limit + 2):
        def forward(self, x, offset=float(i)):
            return x @ ts.get_variable("w", [4, 4]) + offset

        cls = type(f"Layer{i}", (ts.ScopedModule,), {"forward": forward})
        modules.append(cls().build(torch.ones(2, 4)))
    x = torch.randn(2, 4)
    for module in modules:
        compiled = torch.compile(module, backend="eager", fullgraph=True)
        assert torch.equal(compiled(x), module(x))
