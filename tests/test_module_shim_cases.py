"""TF1 §3.13: TF2's shim cases (137–144), restated for ``ts.ScopedModule``.

TF2's shim (``track_tf1_style_variables``) turns ``reuse=False`` into auto-reuse and lets
``default_name`` scopes drift between calls. torchscope's ``ScopedModule`` instead treats one
``forward`` call as one TF1 graph construction: TF1's checks hold *inside* a pass, and passes
are idempotent (the first creates and registers, later ones reuse by name, with the same names).
Each test states what a torchscope user sees where the shim behaved otherwise.
"""

import pytest
import torch
from torch import nn

import torchscope as ts


def half_sum(t):
    """A regularizer whose value is easy to compute by hand: 0.5 * sum(t)."""
    return 0.5 * t.sum()


# --------------------------------------------------------------------------- case 137

class _TwoBarBlocks(ts.ScopedModule):
    def forward(self):
        with ts.variable_scope("bar", reuse=False):
            ts.get_variable("var", [])
        with ts.variable_scope("bar", reuse=False):
            return ts.get_variable("var", [])


class _OneBarBlock(ts.ScopedModule):
    def forward(self):
        with ts.variable_scope("bar", reuse=False):
            return ts.get_variable("var", [])


def test_two_reuse_false_blocks_in_one_pass_raise_already_exists():
    """§3.13 case 137: the shim returns one variable for two ``vs("bar", reuse=False)`` blocks;
    inside one torchscope pass TF1's check holds and the second creation raises."""
    net = _TwoBarBlocks()
    with pytest.raises(ts.VariableExistsError,
                       match=r"^Variable bar/var already exists, disallowed\. Did you mean to "
                             r"set reuse=True or reuse=ts\.AUTO_REUSE in VarScope\?"):
        net()


def test_failed_first_pass_leaves_neither_module_nor_store_changed():
    """§3.13 case 137: the pass that raised rolls back ``bar/var``: nothing registered, the
    store empty, the module still unbuilt (and it raises the same way again)."""
    net = _TwoBarBlocks()
    with pytest.raises(ts.VariableExistsError, match="already exists"):
        net()
    assert list(net.named_parameters()) == []
    assert len(net.store) == 0
    assert not net.built
    with pytest.raises(ts.VariableExistsError, match="Variable bar/var already exists"):
        net()


def test_one_reuse_false_block_called_in_two_passes_returns_the_same_variable():
    """§3.13 case 137: ``reuse=False`` in a block run once per pass is no error on later
    passes: each pass re-creates the module's own variable, which returns the existing one."""
    net = _OneBarBlock()
    first = net()
    second = net()
    third = net()
    assert first is second
    assert second is third
    assert [name for name, _ in net.named_parameters()] == ["bar/var"]
    assert net.get_parameter("bar/var") is first
    assert net.store["bar/var"] is first


def test_reuse_false_in_a_second_module_on_the_same_store_raises_already_exists():
    """§3.13 case 137: passes are idempotent only for a module's *own* variables; a second
    tower on the same store that creates ``bar/var`` without reuse hits TF1's check."""
    first = _OneBarBlock()
    first()
    second = _OneBarBlock(store=first.store)
    with pytest.raises(ts.VariableExistsError, match=r"^Variable bar/var already exists"):
        second()
    assert list(second.named_parameters()) == []
    assert list(first.store) == ["bar/var"]


# --------------------------------------------------------------------------- case 138

def test_store_get_variable_default_reuse_gets_or_creates():
    """§3.13 case 138: ``store.get_variable("v")`` twice returns the same variable (the
    store-level default ``reuse=None`` acts as AUTO_REUSE, as in TF1 and the shim)."""
    store = ts.ScopedParameterStore()
    v = store.get_variable("v", [1])
    assert store.get_variable("v", [1]) is v
    assert store.get_variable("v") is v
    assert list(store) == ["v"]


def test_store_get_variable_reuse_false_creates_a_new_variable():
    """§3.13 case 138: ``store.get_variable("u", [1], reuse=False)`` creates ``u`` (not an
    error, not ``v``)."""
    store = ts.ScopedParameterStore()
    v = store.get_variable("v", [1])
    u = store.get_variable("u", [1], reuse=False)
    assert u is not v
    assert store.name_of(u) == "u"
    assert store["u"] is u
    assert list(store) == ["v", "u"]


def test_store_get_variable_reuse_false_twice_raises_already_exists():
    """§3.13 case 138: unlike the shim, a second ``reuse=False`` creation of ``u`` is TF1's
    error, and the store keeps exactly the first ``u``."""
    store = ts.ScopedParameterStore()
    u = store.get_variable("u", [1], reuse=False)
    with pytest.raises(ts.VariableExistsError, match=r"^Variable u already exists, disallowed"):
        store.get_variable("u", [1], reuse=False)
    assert store["u"] is u
    assert len(store) == 1


def test_store_get_variable_auto_reuse_gets_or_creates():
    """§3.13 case 138: ``reuse=ts.AUTO_REUSE`` creates on the first call, returns it after."""
    store = ts.ScopedParameterStore()
    w = store.get_variable("w", [2], reuse=ts.AUTO_REUSE)
    assert store.get_variable("w", [2], reuse=ts.AUTO_REUSE) is w
    assert list(store) == ["w"]


def test_store_get_variable_reuse_true_missing_raises_not_found():
    """§3.13 case 138: ``reuse=True`` only gets; a missing name raises and creates nothing."""
    store = ts.ScopedParameterStore()
    with pytest.raises(ts.VariableNotFoundError,
                       match=r"^Variable u does not exist, or was not created with "
                             r"ts\.get_variable\(\)"):
        store.get_variable("u", [1], reuse=True)
    assert len(store) == 0


# --------------------------------------------------------------------------- case 139

class _TwoDense(ts.ScopedModule):
    """The shim test's layer: ``dense_one`` and ``nested_scope/dense_two`` with kernel/bias,
    kernels regularized by 0.5 * sum; forward returns (output, total reg. loss, losses)."""

    def __init__(self, units=2, name=None, *, store=None):
        super().__init__(name, store=store)
        self.units = units

    def forward(self, x):
        with ts.variable_scope("dense_one"):
            kernel = ts.get_variable("kernel", [x.shape[-1], self.units],
                                     initializer=ts.ones_initializer(), regularizer=half_sum)
            bias = ts.get_variable("bias", [self.units], initializer=ts.zeros_initializer())
            out = x @ kernel + bias
        with ts.variable_scope("nested_scope"):
            with ts.variable_scope("dense_two"):
                kernel = ts.get_variable("kernel", [self.units, self.units],
                                         initializer=ts.ones_initializer(),
                                         regularizer=half_sum)
                bias = ts.get_variable("bias", [self.units],
                                       initializer=ts.zeros_initializer())
                out = out @ kernel + bias
        return out, ts.get_regularization_loss(), ts.get_regularization_losses()


TWO_DENSE_NAMES = ["dense_one/kernel", "dense_one/bias",
                   "nested_scope/dense_two/kernel", "nested_scope/dense_two/bias"]


def test_layer_parameters_are_named_by_their_tf_names():
    """§3.13 case 139: the module's parameters (and state_dict keys) are exactly the TF names
    ``dense_one/kernel``, ``dense_one/bias``, ``nested_scope/dense_two/{kernel,bias}``."""
    net = _TwoDense()
    net(torch.ones(1, 3))
    assert [name for name, _ in net.named_parameters()] == TWO_DENSE_NAMES
    assert list(net.state_dict()) == TWO_DENSE_NAMES
    assert list(net.store) == TWO_DENSE_NAMES
    for name, param in net.named_parameters():
        assert net.store[name] is param


def test_layer_second_call_reuses_and_sees_values_assigned_in_between():
    """§3.13 case 139: a second call creates nothing and computes with values assigned to the
    parameters after the first call."""
    net = _TwoDense()
    x = torch.ones(1, 3)
    out, _, _ = net(x)
    params = dict(net.named_parameters())
    assert torch.equal(out, torch.full((1, 2), 6.0))    # (1·3 ones) @ ones @ ones
    with torch.no_grad():
        net.get_parameter("dense_one/kernel").fill_(2.0)
        net.store["nested_scope/dense_two/bias"].fill_(1.0)
    out, _, _ = net(x)
    assert torch.equal(out, torch.full((1, 2), 13.0))   # 6 per unit, ·2 summed, + 1
    assert dict(net.named_parameters()) == params
    assert all(params[name] is param for name, param in net.named_parameters())
    assert len(net.store) == 4


def test_layer_regularization_losses_once_per_variable_from_current_values():
    """§3.13 case 139: one loss per regularized variable however many passes ran (the shim's
    1.5 → 6 check): 0.5·sum(ones[3,2]) + 0.5·sum(ones[2,2]) = 5, and after the first kernel
    is set to 2, 6 + 2 = 8 — inside forward and from ``store.regularization_losses()``."""
    net = _TwoDense()
    x = torch.ones(1, 3)
    _, total, losses = net(x)
    assert len(losses) == 2
    assert total.item() == 5.0
    _, total, losses = net(x)
    assert len(losses) == 2
    assert total.item() == 5.0
    with torch.no_grad():
        net.get_parameter("dense_one/kernel").fill_(2.0)
    _, total, losses = net(x)
    assert len(losses) == 2
    assert [loss.item() for loss in losses] == [6.0, 2.0]
    assert total.item() == 8.0
    assert [loss.item() for loss in net.store.regularization_losses()] == [6.0, 2.0]


def test_layer_regularization_loss_is_differentiable_to_the_parameters():
    """§3.13 case 139: the loss computed in forward is a function of the registered
    parameters (d(0.5·sum k)/dk = 0.5), so adding it to the objective trains them."""
    net = _TwoDense()
    _, total, _ = net(torch.ones(1, 3))
    total.backward()
    assert torch.equal(net.get_parameter("dense_one/kernel").grad, torch.full((3, 2), 0.5))
    assert net.get_parameter("dense_one/bias").grad is None


def test_layer_regularization_loss_in_forward_uses_functional_call_values():
    """§3.13 case 139: inside a pass the losses are computed from the module's *current*
    bindings, so ``functional_call`` with substituted kernels gets their losses."""
    net = _TwoDense()
    net(torch.ones(1, 3))
    substitute = {"dense_one/kernel": torch.full((3, 2), 3.0)}
    _, total, losses = torch.func.functional_call(net, substitute, (torch.ones(1, 3),))
    assert [loss.item() for loss in losses] == [9.0, 2.0]
    assert total.item() == 11.0
    assert [loss.item() for loss in net.store.regularization_losses()] == [3.0, 2.0]


# --------------------------------------------------------------------------- case 140

class _Outer(ts.ScopedModule):
    """A ScopedModule holding two ``_TwoDense`` children (on its store or their own) and a
    regularized variable of its own; it calls the first child twice per pass."""

    def __init__(self, shared_store):
        super().__init__("outer")
        store = self.store if shared_store else None
        self.first = _TwoDense(name="first", store=store)
        self.second = _TwoDense(name="second", store=store)

    def forward(self, x):
        with ts.variable_scope("head"):
            w = ts.get_variable("w", [2, 1], initializer=ts.ones_initializer(),
                                regularizer=half_sum)
        a, _, _ = self.first(x)
        a, _, _ = self.first(x)
        b, _, _ = self.second(x)
        return (a + b) @ w, ts.get_regularization_loss(), ts.get_regularization_losses()


@pytest.mark.parametrize("shared_store", [True, False], ids=["shared_store", "own_stores"])
def test_nested_modules_parameters_are_the_union_without_double_counting(shared_store):
    """§3.13 case 140: the outer module's ``parameters()`` is its own variable plus each
    child's four, each once (9 objects), however many passes and child calls ran."""
    net = _Outer(shared_store)
    x = torch.ones(1, 3)
    net(x)
    net(x)
    names = [name for name, _ in net.named_parameters()]
    assert names == (["outer/head/w"] + [f"first.first/{n}" for n in TWO_DENSE_NAMES]
                     + [f"second.second/{n}" for n in TWO_DENSE_NAMES])
    params = list(net.parameters())
    assert len({id(p) for p in params}) == len(params) == 9
    for name, param in net.first.named_parameters():
        assert net.first.store[name] is param


def test_nested_modules_on_one_store_regularization_loss_counts_each_variable_once():
    """§3.13 case 140: with the children on the outer store, the outer pass's
    ``ts.get_regularization_loss()`` covers every regularized variable once: 0.5·2 for the
    head plus 5 per child = 11, although ``first`` ran twice per pass and the model twice."""
    net = _Outer(shared_store=True)
    x = torch.ones(1, 3)
    for _ in range(2):
        _, total, losses = net(x)
        assert len(losses) == 5
        assert total.item() == 11.0
    assert len(net.store.regularization_losses()) == 5


def test_nested_modules_with_own_stores_keep_losses_per_store():
    """§3.13 case 140: a child with a store of its own is a separate graph: the outer pass sees
    only the outer store's loss (1), each child's store holds its own two (5 each), so summing
    the distinct stores counts every variable once (11)."""
    net = _Outer(shared_store=False)
    _, total, losses = net(torch.ones(1, 3))
    assert len(losses) == 1
    assert total.item() == 1.0
    stores = {id(m.store): m.store for m in net.modules() if isinstance(m, ts.ScopedModule)}
    assert len(stores) == 3
    everything = [loss for store in stores.values() for loss in store.regularization_losses()]
    assert len(everything) == 5
    assert sum(loss.item() for loss in everything) == 11.0


# --------------------------------------------------------------------------- case 141

class _LinearInForward(ts.ScopedModule):
    def forward(self, x):
        scale = ts.get_variable("scale", [], initializer=ts.ones_initializer())
        return nn.Linear(3, 2)(x) * scale


def test_nn_linear_created_inside_forward_is_not_registered():
    """§3.13 case 141: only ``get_variable``/``ts.Variable`` are tracked. An ``nn.Linear``
    constructed inside forward is a fresh module each call: its weights are neither parameters
    of the module nor variables of the store (so no optimizer would train them)."""
    net = _LinearInForward()
    x = torch.ones(1, 3)
    first = net(x)
    second = net(x)
    assert [name for name, _ in net.named_parameters()] == ["scale"]
    assert list(net.state_dict()) == ["scale"]
    assert list(net.store) == ["scale"]
    assert list(net.children()) == []
    assert not torch.equal(first, second)           # new random weights on every pass


def test_nn_linear_assigned_in_init_is_registered_next_to_tf_variables():
    """§3.13 case 141: the PyTorch way to use a layer — an attribute set in ``__init__`` —
    registers it as usual, beside the TF-named variables."""
    class Mixed(ts.ScopedModule):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x):
            return self.lin(x) * ts.get_variable("scale", [], initializer=ts.ones_initializer())

    net = Mixed()
    x = torch.ones(1, 3)
    assert torch.equal(net(x), net(x))
    assert [name for name, _ in net.named_parameters()] == ["scale", "lin.weight", "lin.bias"]
    assert list(net.store) == ["scale"]


# --------------------------------------------------------------------------- case 142

def _scaled(x):
    return x * ts.get_variable("scale", [2], initializer=ts.constant_initializer(3.0))


def test_wrap_of_a_plain_function_returns_a_working_module():
    """§3.13 case 142: where the shim refuses to decorate a free function ("does not
    extend"), ``ts.ScopedModule.wrap(fn)`` turns it into a module that registers and reuses."""
    net = ts.ScopedModule.wrap(_scaled)
    assert isinstance(net, ts.ScopedModule)
    assert isinstance(net, nn.Module)
    out = net(torch.ones(4, 2))
    assert torch.equal(out, torch.full((4, 2), 3.0))
    assert [name for name, _ in net.named_parameters()] == ["scale"]
    scale = net.get_parameter("scale")
    net(torch.ones(4, 2))
    assert net.get_parameter("scale") is scale
    assert net.store["scale"] is scale


def test_wrap_with_name_and_store_scopes_the_variables_in_that_store():
    """§3.13 case 142: ``wrap(fn, name, store=...)`` enters ``name`` around each pass and
    creates in the given store; ``build`` runs the first pass and returns the module."""
    store = ts.ScopedParameterStore()
    net = ts.ScopedModule.wrap(_scaled, "block", store=store).build(torch.ones(1, 2))
    assert net.built
    assert net.store is store
    assert list(store) == ["block/scale"]
    assert store["block/scale"] is net.get_parameter("block/scale")
    assert store["block/scale"].grad is None           # build ran under no_grad


def test_subclass_without_forward_raises_not_implemented_when_called():
    """§3.13 case 142: the mistake that remains — a subclass that forgot ``forward`` — fails on
    call with a message naming the class and both fixes."""
    class NoForward(ts.ScopedModule):
        pass

    with pytest.raises(NotImplementedError,
                       match=r"^NoForward has no forward: subclass ts\.ScopedModule and define "
                             r"forward, or use ts\.ScopedModule\.wrap\(fn\)\."):
        NoForward()(torch.ones(1))


# --------------------------------------------------------------------------- case 143

def _scale_by_y(x):
    return x * ts.get_variable("y", [], initializer=ts.constant_initializer(2.0))


class _TemplateInForward(ts.ScopedModule):
    def forward(self, x):
        with ts.variable_scope("foo"):
            scale = ts.make_template("scale_by_y", _scale_by_y)
            for _ in range(3):
                x = scale(x)
        return x


class _TemplateInInit(ts.ScopedModule):
    def __init__(self):
        super().__init__()
        self.scale = ts.make_template("scale_by_y", _scale_by_y)

    def forward(self, x):
        with ts.variable_scope("foo"):
            for _ in range(3):
                x = self.scale(x)
        return x


@pytest.mark.parametrize("cls", [_TemplateInForward, _TemplateInInit],
                         ids=["template_made_in_forward", "template_made_in_init"])
def test_make_template_called_three_times_has_one_weight_across_passes(cls):
    """§3.13 case 143: a template ``scale_by_y`` called three times in ``vs("foo")`` has exactly
    one weight ``foo/scale_by_y/y``, the same object on every pass (y=2: x·2³)."""
    net = cls()
    outputs = [net(torch.ones(2)) for _ in range(3)]
    for out in outputs:
        assert torch.equal(out, torch.full((2,), 8.0))
    assert [name for name, _ in net.named_parameters()] == ["foo/scale_by_y/y"]
    assert list(net.store) == ["foo/scale_by_y/y"]
    assert net.store["foo/scale_by_y/y"] is net.get_parameter("foo/scale_by_y/y")


# --------------------------------------------------------------------------- case 144

def test_reuse_true_for_a_missing_name_in_a_pass_raises_not_found():
    """§3.13 case 144: TF2's eager store creates ``s/new`` under ``reuse=True``; a torchscope
    pass keeps TF1's rule, raises, and leaves the module unbuilt and the store empty."""
    def fn():
        with ts.variable_scope("s", reuse=True):
            return ts.get_variable("new", [])

    net = ts.ScopedModule.wrap(fn)
    with pytest.raises(ts.VariableNotFoundError,
                       match=r"^Variable s/new does not exist, or was not created with "
                             r"ts\.get_variable\(\)\. Did you mean to set reuse=ts\.AUTO_REUSE"):
        net()
    assert not net.built
    assert len(net.store) == 0
    assert list(net.named_parameters()) == []


class _DefaultNames(ts.ScopedModule):
    """Two ``default_name="d"`` scopes per pass, then two unnamed ``ts.Variable``s."""

    def forward(self):
        out = []
        for _ in range(2):
            with ts.variable_scope(None, default_name="d"):
                out.append(ts.get_variable("w", []))
        out.append(ts.Variable(1.0))
        out.append(ts.Variable(2.0))
        return out


def test_default_name_scope_gives_the_same_name_on_every_pass():
    """§3.13 case 144: the shim's ``vs(None, "d")`` drifts (``d/w`` then ``d_1/w``, a new
    variable per call); a torchscope pass restarts the counter, so ``d/w`` every pass."""
    def fn():
        with ts.variable_scope(None, default_name="d"):
            return ts.get_variable("w", [])

    net = ts.ScopedModule.wrap(fn)
    results = [net() for _ in range(3)]
    assert results[0] is results[1]
    assert results[1] is results[2]
    assert [name for name, _ in net.named_parameters()] == ["d/w"]
    assert list(net.store) == ["d/w"]


def test_default_names_count_within_a_pass_and_restart_across_passes():
    """§3.13 case 144: within one pass TF1 counts (``d/w``, ``d_1/w``; ``Variable``,
    ``Variable_1``); every pass gets the same four objects, registered once each."""
    net = _DefaultNames()
    first = net()
    for _ in range(2):
        again = net()
        assert all(a is b for a, b in zip(first, again))
    assert ([net.store.name_of(v) for v in first]
            == ["d/w", "d_1/w", "Variable", "Variable_1"])
    assert ([name for name, _ in net.named_parameters()]
            == ["d/w", "d_1/w", "Variable", "Variable_1"])
    assert len(net.store) == 4


def test_new_trainable_variable_after_the_first_pass_raises_pass_error():
    """§3.13 case 144: what drift would have been — a name the first pass never created — is
    an error in a later pass (an optimizer built after the first call would miss it)."""
    def fn(deep=False):
        w = ts.get_variable("w", [])
        if deep:
            ts.get_variable("extra", [])
        return w

    net = ts.ScopedModule.wrap(fn)
    net()
    with pytest.raises(ts.PassError,
                       match=r"^Trainable variable extra created when calling "
                             r"ScopedModule\.wrap\(.*fn.*\) after the first time\."):
        net(deep=True)
    assert list(net.store) == ["w"]
    assert [name for name, _ in net.named_parameters()] == ["w"]
