"""caching_device: a differentiable copy of a variable on another device, made once per pass,
and TF1's multi-tower pattern built on it."""

import pytest
import torch

import torchscope as ts


def _tower_devices():
    """Every visible GPU when there are some (one tower each), else two CPU towers."""
    if torch.cuda.is_available():
        return [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
    return [torch.device("cpu"), torch.device("cpu")]


def test_caching_device_copy_is_made_once_per_pass():
    copies = []

    def fn(x):
        with ts.variable_scope("s", caching_device="meta") as scope:
            copies.append(ts.get_variable("w", [2, 2]))
            scope.reuse_variables()
            copies.append(ts.get_variable("w", [2, 2]))
        return x

    net = ts.ScopedModule.wrap(fn)
    net(torch.ones(1))
    net(torch.ones(1))
    first, again, second_pass, _ = copies
    assert first.is_meta and first.shape == (2, 2)
    assert again is first                       # the same copy within a pass
    assert second_pass is not first             # a fresh copy on the next pass
    assert not net.get_parameter("s/w").is_meta  # the variable itself stays where it was made


def test_caching_device_argument_overrides_the_scope_and_empty_string_disables():
    seen = {}

    def fn(x):
        with ts.variable_scope("s", caching_device="meta"):
            seen["scope"] = ts.get_variable("w", [1])
            seen["empty"] = ts.get_variable("u", [1], caching_device="")
        seen["call"] = ts.get_variable("v", [1], caching_device="meta")
        return x

    net = ts.ScopedModule.wrap(fn)
    net(torch.ones(1))
    assert seen["scope"].is_meta and seen["call"].is_meta
    assert seen["empty"] is net.get_parameter("s/u")


def test_caching_device_accepts_tf_device_strings():
    net = ts.ScopedModule.wrap(lambda x: ts.get_variable("w", [1], caching_device="/cpu:0") * x)
    assert net(torch.ones(1)).device.type == "cpu"
    with pytest.raises(ts.VariableArgumentError, match="names no device type"):
        ts.ScopedModule.wrap(lambda x: ts.get_variable("w", [1], caching_device="/job:ps") * x)(
            torch.ones(1))


def _model(devices):
    """TF1's multi-GPU tower pattern: variables on the CPU, one tower per device reading them
    through caching_device, losses combined on the CPU."""

    def towers(batches):
        losses = []
        for i, (device, (x, y)) in enumerate(zip(devices, batches)):
            with ts.variable_scope("model", reuse=i > 0, caching_device=device):
                w = ts.get_variable("w", [4, 1], initializer=ts.constant_initializer(0.1))
                b = ts.get_variable("b", [1], initializer=ts.zeros_initializer())
                prediction = x.to(device) @ w + b
                losses.append(((prediction - y.to(device)) ** 2).mean().to("cpu"))
        return sum(losses) / len(losses)

    return ts.ScopedModule.wrap(towers, store=ts.ScopedParameterStore(device="cpu"))


def test_multi_tower_training_equals_single_tower_training():
    torch.manual_seed(0)
    x, y = torch.randn(16, 4), torch.randn(16, 1)
    devices = _tower_devices()
    multi = _model(devices)
    single = _model([devices[0]])
    results = []
    for model, n in ((multi, len(devices)), (single, 1)):
        optimizer = None
        for _ in range(5):
            batches = list(zip(x.chunk(n), y.chunk(n)))
            loss = model(batches)
            if optimizer is None:
                optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        results.append({k: v.detach().clone() for k, v in model.named_parameters()})
    assert results[0].keys() == {"model/w", "model/b"}
    for key in results[0]:
        torch.testing.assert_close(results[0][key], results[1][key], atol=1e-6, rtol=1e-6)
    assert multi.get_parameter("model/w").device.type == "cpu"


@pytest.mark.cuda
def test_cuda_caching_device_copy_is_differentiable():
    def fn(x):
        with ts.variable_scope("s", caching_device="cuda:0"):
            w = ts.get_variable("w", [2, 2])
        return x.cuda() @ w

    net = ts.ScopedModule.wrap(fn, store=ts.ScopedParameterStore(device="cpu"))
    out = net(torch.ones(1, 2))
    assert out.is_cuda and not net.get_parameter("s/w").is_cuda
    out.sum().backward()
    assert net.get_parameter("s/w").grad is not None and not net.get_parameter("s/w").grad.is_cuda
