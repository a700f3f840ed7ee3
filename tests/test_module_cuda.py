"""ScopedModule on a GPU: each capability whose behaviour depends on the device, checked on
CUDA. Every test here is marked ``cuda`` and skips cleanly on a machine without one; the CPU
tests of the same capabilities live beside them (test_module*.py, test_safetensors.py,
test_summary.py), and so do the CUDA tests built on those files' models (ties, safetensors).
"""

import copy

import pytest
import torch

import torchscope as ts
from tf1_helpers import SiameseMLP

pytestmark = pytest.mark.cuda

CUDA = torch.device("cuda", 0)


class Siamese(SiameseMLP):
    """The shared-weight MLP, with a non-trainable step counter beside the towers' weights."""

    def tower(self, x, reuse):
        x = super().tower(x, reuse)
        with ts.variable_scope("tower", reuse=reuse):
            ts.get_variable("steps", [], dtype=torch.int64, trainable=False,
                            initializer=ts.zeros_initializer())
        return x


def _inputs(device=CUDA):
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(4, 8, generator=generator, device="cpu").to(device),
            torch.randn(4, 8, generator=generator, device="cpu").to(device))


def _built(device=CUDA):
    torch.manual_seed(0)
    with torch.device(device):
        return Siamese().build(*_inputs(device))


def _assert_store_bindings(model):
    """Every registered tensor is the store's object for its name."""
    for name, p in model.named_parameters():
        assert model.store[name] is p, name
    for name, buf in model.named_buffers():
        assert model.store[name] is buf, name


def test_cuda_build_under_a_device_context_puts_every_variable_on_the_gpu():
    model = _built()
    assert {p.device for p in model.parameters()} == {CUDA}
    assert model.get_buffer("tower/steps").device == CUDA
    _assert_store_bindings(model)
    out_a, out_b = model(*_inputs())
    assert out_a.device == CUDA and out_b.device == CUDA


def test_cuda_to_before_the_first_pass_builds_on_the_gpu():
    """``Net().to("cuda")`` then a call: the variables are created on the GPU, as PyTorch's
    lazy modules would be (the plain-PyTorch habit works unchanged)."""
    model = Siamese().to("cuda")
    out_a, _ = model(*_inputs())
    assert {p.device for p in model.parameters()} == {CUDA} and out_a.device == CUDA
    assert model.get_buffer("tower/steps").device == CUDA
    _assert_store_bindings(model)


def test_cuda_store_device_argument_places_variables():
    store = ts.ScopedParameterStore(device="cuda")

    def fn(x):
        return x @ ts.get_variable("w", [8, 8])

    module = ts.ScopedModule.wrap(fn, store=store).build(torch.ones(2, 8, device="cuda"))
    assert module.get_parameter("w").is_cuda and store["w"] is module.get_parameter("w")


def test_cuda_training_step_updates_each_shared_weight_once():
    model = _built()
    a, b = _inputs()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    out_a, out_b = model(a, b)
    (out_a - out_b).square().sum().backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    optimizer.step()
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.detach(), before[name] - 0.1 * grads[name], msg=name)
    _assert_store_bindings(model)


def _compiled_by_torch_compile(module):
    return torch.compile(module, fullgraph=True)


def _compiled_in_place(module):
    module.compile(fullgraph=True)          # ScopedModule.compile: with ts.guard_filter
    return module


@pytest.mark.parametrize("compile_", [_compiled_by_torch_compile, _compiled_in_place],
                         ids=["torch.compile", "module.compile"])
def test_cuda_compile_fullgraph_matches_eager_forward_and_backward(compile_):
    """Inductor's GPU code (Triton kernels) for a built module, compiled with every guard and
    with torchscope's guard filter: no graph breaks, the same outputs and gradients as eager."""
    model = _built()
    a, b = _inputs()
    explanation = torch._dynamo.explain(model)(a, b)
    assert explanation.graph_break_count == 0 and explanation.graph_count == 1
    twin = copy.deepcopy(model)
    compiled = compile_(twin)
    for _ in range(2):
        for m in (model, twin):
            m.zero_grad(set_to_none=True)
        eager_out = model(a, b)
        compiled_out = compiled(a, b)
        for got, want in zip(compiled_out, eager_out):
            assert got.device == CUDA
            torch.testing.assert_close(got, want)
        for out_a, out_b in (eager_out, compiled_out):
            (out_a - out_b).square().sum().backward()
        for (name, p), q in zip(model.named_parameters(), twin.parameters()):
            torch.testing.assert_close(q.grad, p.grad, msg=name)


def test_cuda_move_keeps_non_trainable_variables_as_buffers_out_of_the_optimizer():
    model = _built(device="cpu").to("cuda")
    steps = model.get_buffer("tower/steps")
    assert steps.device == CUDA and model.store["tower/steps"] is steps
    assert "tower/steps" in model.state_dict()
    assert all(p is not steps for p in model.parameters())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    assert all(p.is_cuda for group in optimizer.param_groups for p in group["params"])


def test_cuda_functional_call_uses_the_passed_gpu_tensors():
    model = _built()
    a, b = _inputs()
    zeros = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    out_a, _ = torch.func.functional_call(model, zeros, (a, b))
    assert torch.equal(out_a, torch.zeros(4, 8, device="cuda"))
    assert not torch.equal(model(a, b)[0], out_a)


def test_cuda_summary_reports_the_gpu_and_counts_shared_tensors_once():
    model = _built()
    report = ts.summary(model)
    assert {row["device"] for row in report.rows} == {str(CUDA)}
    tensors = list(model.parameters()) + list(model.buffers())
    assert report.total == sum(t.numel() for t in tensors) == 2 * (8 * 8 + 8) + 1
