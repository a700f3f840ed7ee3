"""Ties never break silently: after everything PyTorch does to parameter objects, a shared
variable is one object in the store and in every module using it."""

import pytest
import torch
from torch import nn

import torchscope as ts

MODES = ["default", "overwrite", "swap"]


@pytest.fixture(params=MODES)
def conversion_mode(request):
    """Each of torch.__future__'s three module-conversion behaviours, restored afterwards."""
    overwrite = torch.__future__.get_overwrite_module_params_on_conversion()
    swap = torch.__future__.get_swap_module_params_on_conversion()
    torch.__future__.set_overwrite_module_params_on_conversion(request.param == "overwrite")
    torch.__future__.set_swap_module_params_on_conversion(request.param == "swap")
    yield request.param
    torch.__future__.set_overwrite_module_params_on_conversion(overwrite)
    torch.__future__.set_swap_module_params_on_conversion(swap)


def _tower(store, reuse):
    def fn(x):
        with ts.variable_scope("tower", reuse=reuse):
            w = ts.get_variable("w", [3, 3])
            mean = ts.get_variable("mean", [3], trainable=False,
                                   initializer=ts.zeros_initializer())
            return x @ w - mean
    return ts.ScopedModule.wrap(fn, store=store)


def _towers(device=None):
    store = ts.ScopedParameterStore(device=device)
    model = nn.ModuleDict({"a": _tower(store, False), "b": _tower(store, True)})
    x = torch.ones(1, 3, device=device)
    model["a"](x)
    model["b"](x)
    return model


def _assert_tied(model):
    store = model["a"].store
    w = store["tower/w"]
    mean = store["tower/mean"]
    assert model["a"].get_parameter("tower/w") is w and model["b"].get_parameter("tower/w") is w
    assert model["a"].get_buffer("tower/mean") is mean and model["b"].get_buffer("tower/mean") is mean
    assert isinstance(w, nn.Parameter) and isinstance(mean, nn.Parameter)
    assert store.name_of(w) == "tower/w"
    assert len(list(model.parameters())) == 1 and len(list(model.buffers())) == 1
    return w, mean


def test_dtype_conversions_keep_ties_in_every_future_mode(conversion_mode):
    model = _towers()
    for convert, dtype in ((nn.Module.double, torch.float64), (nn.Module.half, torch.float16),
                           (nn.Module.float, torch.float32)):
        convert(model)
        w, mean = _assert_tied(model)
        assert w.dtype == dtype and mean.dtype == dtype
    out = model["b"](torch.ones(1, 3))
    out.sum().backward()
    assert model["a"].get_parameter("tower/w").grad is not None


def test_to_with_dtype_keeps_ties_and_trainability(conversion_mode):
    model = _towers().to(torch.float64)
    w, mean = _assert_tied(model)
    assert w.requires_grad and not mean.requires_grad


def test_converting_one_sharer_rebinds_the_other(conversion_mode):
    model = _towers()
    model["a"].double()
    w, _ = _assert_tied(model)
    assert w.dtype == torch.float64
    assert model["b"](torch.ones(1, 3, dtype=torch.float64)).dtype == torch.float64


def test_optimizer_built_after_conversion_updates_the_shared_weight_once(conversion_mode):
    model = _towers().double()
    w, _ = _assert_tied(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    before = w.detach().clone()
    x = torch.ones(1, 3, dtype=torch.float64)
    (model["a"](x).sum() + model["b"](x).sum()).backward()
    optimizer.step()
    torch.testing.assert_close(w.detach(), before - 0.5 * 2 * torch.ones(3, 3, dtype=torch.float64))


def test_to_empty_after_meta_build_keeps_ties():
    with torch.device("meta"):
        model = _towers()
    assert model["a"].store["tower/w"].is_meta
    model.to_empty(device="cpu")
    w, mean = _assert_tied(model)
    assert w.device.type == "cpu" and mean.device.type == "cpu"


def test_to_empty_after_meta_build_keeps_ties_in_every_mode(conversion_mode):
    with torch.device("meta"):
        model = _towers()
    model.to_empty(device="cpu")
    _assert_tied(model)


def test_load_state_dict_assign_keeps_ties():
    model = _towers()
    state = {key: torch.full_like(value, 2.0) for key, value in model.state_dict().items()}
    model.load_state_dict(state, assign=True)
    w, mean = _assert_tied(model)
    assert torch.equal(w.detach(), torch.full((3, 3), 2.0)) and w.requires_grad
    assert torch.equal(mean.detach(), torch.full((3,), 2.0)) and not mean.requires_grad


def test_load_state_dict_copy_mode_keeps_objects():
    model = _towers()
    w_before = model["a"].store["tower/w"]
    model.load_state_dict({k: torch.zeros_like(v) for k, v in model.state_dict().items()})
    w, _ = _assert_tied(model)
    assert w is w_before and torch.equal(w.detach(), torch.zeros(3, 3))


def test_shared_buffer_stays_tied_after_a_copying_move():
    # Module._apply rebinds buffers on every copying .to(); the re-tie keeps one object.
    model = _towers().to(torch.float64)
    _, mean = _assert_tied(model)
    with torch.no_grad():
        model["a"].get_buffer("tower/mean").add_(1.0)
    assert model["b"].get_buffer("tower/mean")[0].item() == 1.0


@pytest.mark.cuda
def test_cuda_moves_keep_ties_in_every_future_mode(conversion_mode):
    model = _towers().cuda()
    w, mean = _assert_tied(model)
    assert w.is_cuda and mean.is_cuda
    model.cpu()
    w, _ = _assert_tied(model)
    assert not w.is_cuda


@pytest.mark.cuda
def test_cuda_half_training_step_keeps_ties(conversion_mode):
    model = _towers().cuda().half()
    x = torch.ones(1, 3, device="cuda", dtype=torch.float16)
    (model["a"](x).sum() + model["b"](x).sum()).backward()
    w, _ = _assert_tied(model)
    assert w.grad is not None and w.grad.dtype == torch.float16


@pytest.mark.cuda
def test_cuda_to_empty_after_meta_build_keeps_ties():
    with torch.device("meta"):
        model = _towers()
    model.to_empty(device="cuda")
    w, mean = _assert_tied(model)
    assert w.is_cuda and mean.is_cuda


@pytest.mark.cuda
def test_cuda_load_state_dict_assign_moves_a_cpu_model_and_keeps_ties():
    model = _towers()
    state = {key: torch.full_like(value, 2.0, device="cuda")
             for key, value in model.state_dict().items()}
    model.load_state_dict(state, assign=True)
    w, mean = _assert_tied(model)
    assert w.is_cuda and w.requires_grad and mean.is_cuda and not mean.requires_grad
    assert torch.equal(model["b"](torch.ones(1, 3, device="cuda")),
                       torch.full((1, 3), 4.0, device="cuda"))
