"""``ts.sharing_groups``: which submodules share parameters (and so must be sharded together).

A group is a list of module names (``named_modules`` spelling, ``""`` for the root) joined by
parameter objects registered on more than one of them, transitively.
"""

import torch
from torch import nn

import torchscope as ts


def scoped(store, uses, name=None):
    """A ScopedModule on ``store`` that multiplies by ``s/<var>`` for each ``(var, reuse)``."""
    def fn(x):
        for var, reuse in uses:
            with ts.variable_scope("s", reuse=reuse):
                x = x * ts.get_variable(var, [1])
        return x
    return ts.ScopedModule.wrap(fn, name, store=store)


def run_all(model, names):
    for name in names:
        model.get_submodule(name)(torch.ones(1))
    return model


# --------------------------------------------------------------------------- no groups

def test_plain_modules_without_ties_have_no_groups():
    assert ts.sharing_groups(nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))) == []


def test_scoped_modules_on_separate_stores_have_no_groups():
    """Same TF names, different stores: different variables, no tie."""
    model = nn.ModuleDict({"a": scoped(None, [("p", False)]), "b": scoped(None, [("p", False)])})
    run_all(model, ["a", "b"])
    assert ts.sharing_groups(model) == []


def test_sharing_inside_one_module_is_not_a_group():
    """A siamese module reuses its variable within its own passes: one module, no group."""
    net = scoped(ts.ScopedParameterStore(), [("p", False), ("p", True)])
    model = nn.Sequential(net, nn.Linear(1, 1))
    model(torch.ones(1))
    assert ts.sharing_groups(model) == []
    assert ts.sharing_groups(net) == []


def test_module_reused_under_two_attribute_names_is_not_a_group():
    """One module reachable under two names is one module; FSDP shards it once."""
    linear = nn.Linear(2, 2)
    assert ts.sharing_groups(nn.Sequential(linear, nn.ReLU(), linear)) == []
    tower = scoped(ts.ScopedParameterStore(), [("p", False)])
    model = nn.Module()
    model.first = tower
    model.second = tower
    tower(torch.ones(1))
    assert ts.sharing_groups(model) == []


def test_shared_buffers_alone_do_not_group_modules():
    """Non-trainable variables are buffers, which FSDP2 does not shard: two towers that share
    only a buffer need no common group."""
    store = ts.ScopedParameterStore()

    def tower(reuse):
        def fn(x):
            with ts.variable_scope("stats", reuse=reuse):
                count = ts.get_variable("count", [], trainable=False,
                                        initializer=ts.zeros_initializer())
            return x + count
        return ts.ScopedModule.wrap(fn, store=store)

    model = nn.ModuleDict({"a": tower(False), "b": tower(True)})
    run_all(model, ["a", "b"])
    assert model["a"].get_buffer("stats/count") is model["b"].get_buffer("stats/count")
    assert ts.sharing_groups(model) == []


# --------------------------------------------------------------------------- groups

def test_two_towers_on_one_store_are_one_group():
    store = ts.ScopedParameterStore()
    model = nn.ModuleDict({"left": scoped(store, [("w", False), ("b", False)]),
                           "right": scoped(store, [("w", True), ("b", True)]),
                           "head": nn.Linear(1, 1)})
    run_all(model, ["left", "right"])
    assert ts.sharing_groups(model) == [["left", "right"]]


def test_towers_are_named_by_their_full_module_path():
    """Towers nested in a submodule appear under dotted names that ``get_submodule`` takes
    back (the way a ``fully_shard([...])`` call would use them)."""
    store = ts.ScopedParameterStore()
    encoder = nn.ModuleDict({"left": scoped(store, [("w", False)]),
                             "right": scoped(store, [("w", True)])})
    model = nn.ModuleDict({"embed": nn.Linear(1, 1), "encoder": encoder})
    run_all(model, ["encoder.left", "encoder.right"])
    groups = ts.sharing_groups(model)
    assert groups == [["encoder.left", "encoder.right"]]
    assert [model.get_submodule(name) for name in groups[0]] == [encoder["left"],
                                                                 encoder["right"]]


def test_three_modules_chained_by_two_parameters_are_one_group():
    """``a`` and ``b`` share ``s/p``, ``b`` and ``c`` share ``s/q``: ``a`` and ``c`` share
    nothing directly but must be sharded with ``b``, so all three form one group."""
    store = ts.ScopedParameterStore()
    model = nn.ModuleDict({"a": scoped(store, [("p", False)]),
                           "b": scoped(store, [("p", True), ("q", False)]),
                           "c": scoped(store, [("q", True)]),
                           "other": nn.Linear(1, 1)})
    run_all(model, ["a", "b", "c"])
    assert ts.sharing_groups(model) == [["a", "b", "c"]]


def test_group_members_follow_named_modules_order_not_creation_order():
    """``c`` is registered first although ``a`` created the variables: members are listed in
    ``named_modules`` order."""
    store = ts.ScopedParameterStore()
    model = nn.ModuleDict({"c": scoped(store, [("q", True)]),
                           "x": nn.Linear(1, 1),
                           "a": scoped(store, [("p", False)]),
                           "b": scoped(store, [("p", True), ("q", False)])})
    run_all(model, ["a", "b", "c"])
    assert ts.sharing_groups(model) == [["c", "a", "b"]]


def test_groups_are_ordered_by_their_first_member_in_named_modules():
    """Two independent groups, interleaved: the group whose first member comes first in
    ``named_modules`` is listed first, whichever store was made first."""
    second_store, first_store = ts.ScopedParameterStore(), ts.ScopedParameterStore()
    model = nn.ModuleDict({"g1_a": scoped(first_store, [("p", False)]),
                           "g2_a": scoped(second_store, [("p", False)]),
                           "g1_b": scoped(first_store, [("p", True)]),
                           "g2_b": scoped(second_store, [("p", True)])})
    run_all(model, ["g2_a", "g2_b", "g1_a", "g1_b"])
    assert ts.sharing_groups(model) == [["g1_a", "g1_b"], ["g2_a", "g2_b"]]


def test_plain_pytorch_tie_between_linears_is_found():
    """Parameters tied the plain PyTorch way (``b.weight = a.weight``) group the modules."""
    first, second = nn.Linear(2, 2), nn.Linear(2, 2)
    second.weight = first.weight
    assert ts.sharing_groups(nn.Sequential(first, nn.ReLU(), second)) == [["0", "2"]]


def test_tied_embedding_and_output_projection_is_found():
    """The common language-model tie: output projection weight = embedding weight."""
    model = nn.Module()
    model.embed = nn.Embedding(5, 3)
    model.body = nn.Linear(3, 3)
    model.out = nn.Linear(3, 5, bias=False)
    model.out.weight = model.embed.weight
    assert ts.sharing_groups(model) == [["embed", "out"]]


def test_root_holding_a_childs_parameter_groups_the_root():
    """A parameter registered on the model itself and on a child joins ``""`` (the root)."""
    model = nn.Module()
    model.child = nn.Linear(2, 2)
    model.scale = model.child.weight
    assert ts.sharing_groups(model) == [["", "child"]]


def test_scoped_and_plain_modules_tied_in_one_group():
    """A ScopedModule's variable reused as a plain module's weight ties the two."""
    net = ts.ScopedModule.wrap(lambda x: x @ ts.get_variable("w", [2, 2]))
    net(torch.ones(1, 2))
    head = nn.Linear(2, 2, bias=False)
    head.weight = net.get_parameter("w")
    model = nn.Sequential(net, head)
    assert ts.sharing_groups(model) == [["0", "1"]]


def test_groups_survive_dtype_conversion():
    """After ``.double()`` the towers still hold one object each, so the group remains."""
    store = ts.ScopedParameterStore()
    model = nn.ModuleDict({"left": scoped(store, [("w", False)]),
                           "right": scoped(store, [("w", True)])})
    run_all(model, ["left", "right"])
    model.double()
    assert model["left"].get_parameter("s/w").dtype == torch.float64
    assert ts.sharing_groups(model) == [["left", "right"]]
