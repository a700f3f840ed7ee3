"""Towers sharing weights hold one copy of each parameter, one gradient and one optimizer state
(DESIGN §4), whether the towers are scope re-entries in one module or modules on one store."""

import torch
from torch import nn

import torchscope as ts

HIDDEN, LAYERS, TOWERS = 4, 2, 4


def tower(x, reuse):
    with ts.variable_scope("tower", reuse=reuse):
        for j in range(LAYERS):
            with ts.variable_scope(f"fc{j}"):
                w = ts.get_variable("w", [HIDDEN, HIDDEN])
                b = ts.get_variable("b", [HIDDEN], initializer=ts.ones_initializer())
                x = torch.tanh(x @ w + b)
    return x


class Towers(ts.ScopedModule):
    def forward(self, *xs):
        return [tower(x, reuse=i > 0) for i, x in enumerate(xs)]


def _inputs():
    torch.manual_seed(0)
    return [torch.randn(3, HIDDEN) for _ in range(TOWERS)]


def _storages(tensors):
    return {t.untyped_storage().data_ptr() for t in tensors}


def test_k_towers_in_one_module_hold_one_copy_of_each_parameter_and_one_gradient():
    xs = _inputs()
    net = Towers().build(*xs)
    params = list(net.parameters())
    assert len(params) == 2 * LAYERS and len(_storages(params)) == 2 * LAYERS
    outs = net(*xs)
    # what each tower alone contributes to each weight's gradient
    per_tower = [torch.autograd.grad(out.sum(), params, retain_graph=True) for out in outs]
    sum(out.sum() for out in outs).backward()
    for i, p in enumerate(params):
        assert p is net.store[net.store.name_of(p)]
        torch.testing.assert_close(p.grad, sum(grads[i] for grads in per_tower))
    assert len(_storages(p.grad for p in params)) == 2 * LAYERS


def test_k_modules_on_one_store_share_parameters_gradients_and_optimizer_state():
    xs = _inputs()
    store = ts.ScopedParameterStore()
    towers = [ts.ScopedModule.wrap(lambda x, reuse=i > 0: tower(x, reuse), store=store)
              for i in range(TOWERS)]
    for module, x in zip(towers, xs):
        module.build(x)
    parent = nn.ModuleList(towers)
    params = list(parent.parameters())
    assert len(params) == 2 * LAYERS
    assert all(p is store[store.name_of(p)] for p in params)
    optimizer = torch.optim.Adam(params, lr=0.1)
    sum(module(x).sum() for module, x in zip(towers, xs)).backward()
    optimizer.step()
    assert len(optimizer.state) == 2 * LAYERS
    assert len(_storages(p.grad for p in params)) == 2 * LAYERS
    # every tower sees the one updated copy
    for module in towers:
        mine = list(module.parameters())
        assert len(mine) == len(params) and all(a is b for a, b in zip(mine, params))
