"""Conversions applied before a variable exists: ``Net().to(...)`` / ``.double()`` / ``.half()``
before the first pass (and before a later pass creates a non-trainable variable) convert the
variables when they are created, as if they had existed — PyTorch's lazy-module behaviour.

The ``meta`` device stands in for an accelerator on a CPU-only machine; the CUDA versions are
in test_module_cuda.py.
"""

import pytest
import torch
from torch import nn

import torchscope as ts


class Net(ts.ScopedModule):
    """A float weight, an int64 counter and an int32 buffer (an unprobed dtype)."""

    def forward(self, x):
        w = ts.get_variable("w", [3, 2])
        ts.get_variable("steps", [], dtype=torch.int64, trainable=False,
                        initializer=ts.zeros_initializer())
        ts.get_variable("ids", [2], dtype=torch.int32, trainable=False,
                        initializer=ts.zeros_initializer())
        return x @ w


def test_double_before_the_first_pass_creates_float64_variables():
    net = Net().double()
    out = net(torch.ones(1, 3, dtype=torch.float64))
    assert out.dtype == torch.float64
    w = net.get_parameter("w")
    assert w.dtype == torch.float64 and net.store["w"] is w
    assert net.get_buffer("steps").dtype == torch.int64
    assert net.get_buffer("ids").dtype == torch.int32


def test_later_passes_of_a_converted_build_accept_the_declared_dtype():
    """The code asks for float32 (the default), the variable is float64: the declared dtype
    and the current one are both accepted, as for a module converted after building."""
    net = Net().double()
    for _ in range(2):
        net(torch.ones(1, 3, dtype=torch.float64))
    assert [name for name, _ in net.named_parameters()] == ["w"]


def test_conversions_compose_in_order():
    net = Net().half().float()
    net(torch.ones(1, 3))
    assert net.get_parameter("w").dtype == torch.float32
    net = Net().to(torch.bfloat16).double()
    net(torch.ones(1, 3, dtype=torch.float64))
    assert net.get_parameter("w").dtype == torch.float64


def test_a_device_move_before_the_first_pass_creates_variables_there():
    net = Net().to("meta")
    net(torch.ones(1, 3, device="meta"))
    assert {t.device.type for t in net.state_dict().values()} == {"meta"}
    net.to_empty(device="cpu")
    assert {t.device.type for t in net.state_dict().values()} == {"cpu"}


def test_a_later_move_before_the_first_pass_wins():
    net = Net().to("meta").to_empty(device="cpu").double()
    net(torch.ones(1, 3, dtype=torch.float64))
    w = net.get_parameter("w")
    assert w.device.type == "cpu" and w.dtype == torch.float64


def test_a_move_that_cannot_apply_raises_as_for_any_module_and_changes_nothing():
    """Out of ``meta`` only ``to_empty`` moves, for a module with tensors or without."""
    net = Net().to("meta")
    for module in (nn.Linear(2, 2, device="meta"), net):
        with pytest.raises(NotImplementedError, match="meta"):
            module.to("cpu")
    net(torch.ones(1, 3, device="meta"))
    assert net.get_parameter("w").is_meta


def test_a_parent_module_converts_its_unbuilt_scoped_children():
    parent = nn.ModuleDict({"tf": Net(), "head": nn.Linear(2, 1)}).double()
    out = parent["head"](parent["tf"](torch.ones(1, 3, dtype=torch.float64)))
    assert out.dtype == torch.float64
    assert {p.dtype for p in parent.parameters()} == {torch.float64}


def test_a_buffer_created_in_a_later_pass_follows_the_conversions_since():
    class Growing(ts.ScopedModule):
        def forward(self, x, extra=False):
            if extra:   # non-trainable variables may appear after the first pass
                ts.get_variable("mean", [2], trainable=False, initializer=ts.zeros_initializer())
            return x @ ts.get_variable("w", [3, 2])

    net = Growing().build(torch.ones(1, 3))
    net.double()
    net(torch.ones(1, 3, dtype=torch.float64), extra=True)
    assert net.get_buffer("mean").dtype == torch.float64


def test_a_variable_shared_from_a_converted_module_is_one_object():
    store = ts.ScopedParameterStore()
    first = ts.ScopedModule.wrap(lambda x: x @ ts.get_variable("w", [3, 2]), store=store).double()

    def shared(x):
        with ts.variable_scope(ts.get_variable_scope(), reuse=True):
            return x @ ts.get_variable("w", [3, 2], dtype=x.dtype)

    second = ts.ScopedModule.wrap(shared, store=store)
    x = torch.ones(1, 3, dtype=torch.float64)
    first(x)
    second(x)
    assert second.get_parameter("w") is first.get_parameter("w") is store["w"]
    assert store["w"].dtype == torch.float64


def test_variables_created_outside_passes_are_not_converted():
    """Only a module's own passes convert: the store's own ``get_variable`` makes the value as
    asked (the module converts it when ``.to()`` is next applied, as any tensor of its)."""
    net = Net().double()
    w = net.store.get_variable("outside", [2])
    assert w.dtype == torch.float32
