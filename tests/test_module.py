"""ScopedModule passes: the first creates and registers, later ones reuse; TF1 rules inside."""

import pytest
import torch
from torch import nn

import torchscope as ts
from tf1_helpers import tower_module
from torchscope._names import escape_key, unescape_key


class Siamese(ts.ScopedModule):
    """Two towers sharing their weights, one moving statistic, one int counter."""

    def tower(self, x, reuse):
        with ts.variable_scope("tower", reuse=reuse):
            w = ts.get_variable("w", [4, 3])
            b = ts.get_variable("b", [3], initializer=ts.zeros_initializer())
            mean = ts.get_variable("moving_mean", [3], trainable=False,
                                   initializer=ts.zeros_initializer())
            return torch.relu(x @ w + b) - mean

    def forward(self, a, b):
        steps = ts.get_variable("steps", [], dtype=torch.int64, trainable=False)
        with torch.no_grad():
            steps.add_(1)
        return self.tower(a, reuse=False), self.tower(b, reuse=True)


def _inputs():
    return torch.randn(2, 4), torch.randn(2, 4)


def test_first_pass_registers_trainable_variables_as_parameters_under_tf_names():
    net = Siamese().build(*_inputs())
    assert [name for name, _ in net.named_parameters()] == ["tower/w", "tower/b"]


def test_first_pass_registers_non_trainable_variables_as_buffers():
    net = Siamese().build(*_inputs())
    assert [name for name, _ in net.named_buffers()] == ["steps", "tower/moving_mean"]
    assert sorted(net.state_dict()) == ["steps", "tower/b", "tower/moving_mean", "tower/w"]


def test_registered_objects_are_the_store_objects():
    net = Siamese().build(*_inputs())
    assert net.get_parameter("tower/w") is net.store["tower/w"]
    assert net.get_buffer("tower/moving_mean") is net.store["tower/moving_mean"]


def test_later_passes_reuse_the_same_parameters():
    net = Siamese()
    net(*_inputs())
    first = dict(net.named_parameters())
    out_a, out_b = net(*_inputs())
    assert all(p is first[n] for n, p in net.named_parameters())
    assert len(net.store) == 4
    out_a.sum().backward()
    assert net.get_parameter("tower/w").grad is not None


def test_build_returns_module_runs_no_grad_and_only_once():
    net = Siamese()
    assert net.build(*_inputs()) is net and net.built
    assert net.get_buffer("steps").item() == 1
    net.build(*_inputs())
    assert net.get_buffer("steps").item() == 1
    net(*_inputs())
    assert net.get_buffer("steps").item() == 2


def test_unbuilt_module_has_no_parameters():
    assert list(Siamese().parameters()) == []


def test_creating_a_name_twice_in_one_pass_raises_as_in_tf1():
    class Twice(ts.ScopedModule):
        def forward(self, x):
            for _ in range(2):
                with ts.variable_scope("bar"):
                    ts.get_variable("w", [1])
            return x

    with pytest.raises(ts.VariableExistsError, match=r"Variable bar/w already exists, disallowed"):
        Twice()(torch.ones(1))


def test_failed_first_pass_rolls_back_store_and_module_and_next_call_builds():
    class Flaky(ts.ScopedModule):
        fail = True

        def forward(self, x):
            w = ts.get_variable("w", [1])
            if self.fail:
                raise RuntimeError("boom")
            return x * w

    net = Flaky()
    with pytest.raises(RuntimeError, match="boom"):
        net(torch.ones(1))
    assert len(net.store) == 0 and list(net.parameters()) == [] and not net.built
    net.fail = False
    net(torch.ones(1))
    assert [n for n, _ in net.named_parameters()] == ["w"] and net.built


def test_new_trainable_variable_after_first_pass_raises_pass_error():
    class Branchy(ts.ScopedModule):
        def forward(self, x, deep=False):
            h = x * ts.get_variable("w1", [1])
            if deep:
                h = h * ts.get_variable("w2", [1])
            return h

    net = Branchy().build(torch.ones(1))
    with pytest.raises(ts.PassError, match=r"Trainable variable w2 created when calling "
                                           r"Branchy\(name=None\) after the first time"):
        net(torch.ones(1), deep=True)
    assert "w2" not in net.store and [n for n, _ in net.named_parameters()] == ["w1"]


def test_new_non_trainable_variable_after_first_pass_is_allowed_as_a_buffer():
    class Counting(ts.ScopedModule):
        def forward(self, x, count=False):
            if count:
                ts.get_variable("count", [], trainable=False)
            return x * ts.get_variable("w", [1])

    net = Counting().build(torch.ones(1))
    net(torch.ones(1), count=True)
    assert [n for n, _ in net.named_buffers()] == ["count"]


def test_default_names_and_variable_names_are_stable_across_passes():
    class Named(ts.ScopedModule):
        def forward(self, x):
            with ts.variable_scope(None, default_name="dense"):
                w = ts.get_variable("w", [1])
            v = ts.Variable(torch.ones(1), name="v")
            return x * w * v

    net = Named()
    for _ in range(3):
        net(torch.ones(1))
    assert [n for n, _ in net.named_parameters()] == ["dense/w", "v"]
    assert len(net.store) == 2


def test_variable_in_forward_returns_the_same_object_every_pass():
    seen = []

    class WithVariable(ts.ScopedModule):
        def forward(self, x):
            v = ts.Variable(torch.ones(1), name="v")
            seen.append(v)
            return x * v

    net = WithVariable()
    net(torch.ones(1))
    net(torch.ones(1))
    assert seen[0] is seen[1]


def test_reuse_true_for_a_missing_name_raises_not_found():
    net = ts.ScopedModule.wrap(lambda x: x * ts.get_variable("w", [1]), name="s")
    with ts.variable_scope("elsewhere", reuse=True):   # the caller's scope does not leak in
        out = net(torch.ones(1))
    assert out.shape == (1,) and [n for n, _ in net.named_parameters()] == ["s/w"]

    def missing(x):
        with ts.variable_scope("t", reuse=True):
            return x * ts.get_variable("w", [1])

    with pytest.raises(ts.VariableNotFoundError, match=r"Variable t/w does not exist"):
        ts.ScopedModule.wrap(missing)(torch.ones(1))


def test_module_name_is_a_scope_around_every_pass():
    class Named(ts.ScopedModule):
        def forward(self, x):
            return x * ts.get_variable("w", [1])

    net = Named("encoder")
    net(torch.ones(1))
    net(torch.ones(1))
    assert list(net.state_dict()) == ["encoder/w"]


def test_wrap_turns_a_tf1_style_function_into_a_module():
    def dense(x, units=3):
        w = ts.get_variable("kernel", [x.shape[-1], units])
        return x @ w

    net = ts.ScopedModule.wrap(dense, name="dense")
    assert isinstance(net, nn.Module) and isinstance(net, ts.ScopedModule)
    assert net(torch.ones(2, 5)).shape == (2, 3)
    assert list(net.state_dict()) == ["dense/kernel"]
    assert "dense" in repr(net)


def test_subclass_super_forward_joins_the_running_pass():
    class Base(ts.ScopedModule):
        def forward(self, x):
            return x * ts.get_variable("w", [1])

    class Child(Base):
        def forward(self, x):
            return super().forward(x) + ts.get_variable("b", [1])

    net = Child()
    net(torch.ones(1))
    net(torch.ones(1))
    assert [n for n, _ in net.named_parameters()] == ["w", "b"]


def test_modules_on_one_store_register_the_same_parameter_objects():
    store = ts.ScopedParameterStore()
    parent = nn.ModuleDict({"a": tower_module(store, False), "b": tower_module(store, True)})
    parent["a"](torch.ones(1, 2))
    parent["b"](torch.ones(1, 2))
    assert parent["a"].store is store and parent["b"].store is store
    assert parent["a"].get_parameter("tower/w") is parent["b"].get_parameter("tower/w")
    assert len(list(parent.parameters())) == 1


def test_second_module_creating_a_taken_name_raises_exists():
    store = ts.ScopedParameterStore()
    make = lambda: ts.ScopedModule.wrap(lambda x: x * ts.get_variable("w", [1]), store=store)
    make()(torch.ones(1))
    with pytest.raises(ts.VariableExistsError, match="Variable w already exists"):
        make()(torch.ones(1))


def test_dots_in_tf_names_are_escaped_reversibly_in_state_dict_keys():
    net = ts.ScopedModule.wrap(lambda x: x * ts.get_variable("block.1/w", [1]))
    net(torch.ones(1))
    assert list(net.state_dict()) == ["block%2E1/w"]
    assert unescape_key("block%2E1/w") == "block.1/w" and net.store.name_of(
        net.get_parameter("block%2E1/w")) == "block.1/w"
    for name in ("a.b", "100%", "%2E", "", "a/b"):
        assert unescape_key(escape_key(name)) == name and "." not in escape_key(name)


def test_module_summary_repr_counts_variables():
    net = Siamese().build(*_inputs())
    assert "variables=4" in repr(net)


def test_forward_without_definition_raises_helpfully():
    with pytest.raises(NotImplementedError, match="has no forward"):
        ts.ScopedModule()(torch.ones(1))


def test_store_get_variable_inside_a_pass_registers_on_the_module():
    class Direct(ts.ScopedModule):
        def forward(self, x):
            return x * self.store.get_variable("u", [1], reuse=False)

    net = Direct()
    net(torch.ones(1))
    net(torch.ones(1))     # re-created by the same code in the next pass, as get_variable
    assert [n for n, _ in net.named_parameters()] == ["u"]
    assert net.get_parameter("u") is net.store["u"]


def test_inside_a_pass_the_default_store_is_the_modules_until_another_is_entered():
    other = ts.ScopedParameterStore()
    seen = {}

    class Net(ts.ScopedModule):
        def forward(self, x):
            seen["pass"] = ts.get_default_store()
            with ts.variable_scope("body"):
                with other.as_default():            # another graph: its own scopes, at its root
                    seen["other"] = (ts.get_default_store(), ts.get_variable_scope().name)
                    aux = ts.get_variable("aux", [1])
                    with self.store.as_default():   # the module's store: back in the pass
                        seen["again"] = ts.get_variable_scope().name
                        w = ts.get_variable("w", [1])
                seen["after"] = (ts.get_default_store(), ts.get_variable_scope().name)
                v = ts.get_variable("v", [1])
            return x * w * v + aux.detach()

    net = Net()
    with other.as_default():
        net(torch.ones(1))
        assert ts.get_default_store() is other and ts.get_variable_scope().name == ""
    assert seen["pass"] is net.store and seen["other"] == (other, "")
    assert seen["again"] == "body" and seen["after"] == (net.store, "body")
    assert list(other) == ["aux"]
    assert sorted(n for n, _ in net.named_parameters()) == ["body/v", "body/w"]


def test_converted_module_may_ask_for_its_variables_in_the_new_dtype():
    net = ts.ScopedModule.wrap(lambda x: x @ ts.get_variable("w", [3, 2], dtype=x.dtype))
    net.build(torch.ones(1, 3))
    net.double()
    assert net(torch.ones(1, 3, dtype=torch.float64)).dtype == torch.float64
    with pytest.raises(ts.DTypeMismatchError, match=r"Trying to share variable w, but specified "
                                                    r"dtype float16 and found dtype float32\."):
        net(torch.ones(1, 3, dtype=torch.float16))


class _Branchy(ts.ScopedModule):
    """Scope entries that depend on the input (nothing else, so passes are replayed)."""

    def forward(self, x, deep):
        names = []
        with ts.variable_scope("tower") as tower:
            names.append(tower.original_name_scope)
            if deep:     # the same name one level down: a replay out of step would match it
                with ts.variable_scope("tower") as extra:
                    names.append(extra.original_name_scope)
            with ts.variable_scope("fc0") as fc0:
                names.append(fc0.original_name_scope)
                w = ts.get_variable("w", [1])
        with ts.variable_scope("fc0") as again:
            names.append(again.original_name_scope)
        self.names = names
        return x * w


def _assert_every_pass_names_as_a_fresh_module(module_class, pattern):
    """Runs one module through ``pattern`` (the branch each pass takes); after every pass its
    names equal those of a new module's first pass on the same branch."""
    net = module_class()
    for deep in pattern:
        net(torch.ones(1), deep)
        assert net._ts_trace, "the pass was not recorded, so nothing was replayed"
        fresh = module_class()
        fresh(torch.ones(1), deep)
        assert net.names == fresh.names


@pytest.mark.parametrize("pattern", [(False, True, True, False, False, True),
                                     (True, False, False, True)])
def test_later_passes_name_everything_as_a_fresh_first_pass_would(pattern):
    """Passes replay the previous pass's scope entries; when the code takes another branch the
    replay must give way without changing a single name."""
    _assert_every_pass_names_as_a_fresh_module(_Branchy, pattern)


def test_an_unpickled_module_records_its_passes_afresh():
    """The replay record is a cache: unpickling drops it (one saved by an older release may be
    in another format), and the next pass names everything as a fresh module's first pass."""
    import pickle

    net = _Branchy()
    net(torch.ones(1), False)
    net._ts_trace = net._ts_trace[:2]     # a record in an older format: no end-of-pass step
    clone = pickle.loads(pickle.dumps(net))
    assert clone._ts_trace is None
    clone(torch.ones(1), False)
    fresh = _Branchy()
    fresh(torch.ones(1), False)
    assert clone.names == fresh.names
    assert clone._ts_trace, "the pass after unpickling was not recorded"


class _DefaultBranchy(ts.ScopedModule):
    """default_name scopes whose number depends on the input, then a named one."""

    def forward(self, x, deep):
        names = []
        for _ in range(3 if deep else 1):
            with ts.variable_scope(None, default_name="layer") as layer:
                names.append((layer.name, layer.original_name_scope))
        with ts.variable_scope("layer") as named:
            names.append((named.name, named.original_name_scope))
            w = ts.get_variable("w", [1])
        with ts.variable_scope(None, default_name="layer") as last:
            names.append((last.name, last.original_name_scope))
        self.names = names
        return x * w


@pytest.mark.parametrize("pattern", [(False, True, False, True), (True, True, False)])
def test_later_default_name_passes_match_a_fresh_first_pass(pattern):
    _assert_every_pass_names_as_a_fresh_module(_DefaultBranchy, pattern)


def test_a_training_step_leaves_nothing_for_the_garbage_collector():
    """A pass frees its bookkeeping by reference counting: leftover cycles (binder <-> state)
    would make every hundred steps pay a collection, and now and then a full one."""
    import gc

    net = Siamese().build(*_inputs())
    a, b = _inputs()
    for _ in range(3):
        ya, yb = net(a, b)
        (ya - yb).square().sum().backward()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(5):
            ya, yb = net(a, b)
            (ya - yb).square().sum().backward()
        del ya, yb
        gc.collect()
        leftovers = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert leftovers == []


def test_a_dead_module_leaves_no_per_module_cache_behind():
    """The eager per-module cache is keyed by id: it must go with its module, or a long run
    making modules would leak, and a new module given the same id would find stale records."""
    import gc

    from torchscope._binder import _EAGER_HITS

    net = Siamese().build(*_inputs())
    net(*_inputs())
    key = id(net)
    assert _EAGER_HITS.get(key), "the pass did not use the per-module cache"
    del net
    gc.collect()
    assert key not in _EAGER_HITS


class _Asks(ts.ScopedModule):
    """Asks for ``w`` as told: TF1's reuse checks must hold in every pass, not just the first
    (later passes answer from a per-module cache)."""

    def forward(self, x, shape=(4, 3), dtype=torch.float32, twice=False):
        with ts.variable_scope("layer"):
            w = ts.get_variable("w", list(shape), dtype=dtype)
            if twice:
                ts.get_variable("w", list(shape), dtype=dtype)
        return x @ w


@pytest.mark.parametrize("kwargs, error, message", [
    ({"shape": (3, 4)}, ts.ShapeMismatchError,
     r"^Trying to share variable layer/w, but specified shape \(3, 4\) and found shape \(4, 3\)"),
    ({"dtype": torch.float64}, ts.DTypeMismatchError,
     r"^Trying to share variable layer/w, but specified dtype float64 and found dtype float32"),
    ({"twice": True}, ts.VariableExistsError, r"^Variable layer/w already exists, disallowed"),
])
def test_later_passes_check_every_request_as_the_first_did(kwargs, error, message):
    net = _Asks()
    x = torch.ones(2, 4)
    for _ in range(3):           # the first builds, the next ones fill and use the cache
        net(x)
    with pytest.raises(error, match=message):
        net(x, **kwargs)
    assert net(x).shape == (2, 3)                   # and the module still works


class _Setters(ts.ScopedModule):
    """Sets scope defaults on a scope object inside the pass, when asked."""

    def __init__(self):
        super().__init__()
        self.dtype, self.getter = None, None

    def forward(self, x):
        with ts.variable_scope("layer") as scope:
            if self.dtype is not None:
                scope.set_dtype(self.dtype)
            if self.getter is not None:
                scope.set_custom_getter(self.getter)
            return x @ ts.get_variable("w", [4, 3])


def test_later_passes_honour_scope_defaults_set_inside_the_pass():
    """A later pass answers everyday requests from its fast path; a scope setter called in the
    pass (TF1's scope.set_dtype, set_custom_getter) must still decide the request."""
    net = _Setters()
    x = torch.ones(2, 4)
    for _ in range(3):
        net(x)
    net.dtype = torch.float64
    with pytest.raises(ts.DTypeMismatchError, match=r"specified dtype float64 and found dtype "
                                                    r"float32"):
        net(x)
    net.dtype, calls = None, []

    def recording(getter, name, *args, **kwargs):      # TF1 passes getter= and name= by name
        calls.append(name)
        return getter(name, *args, **kwargs)

    net.getter = recording
    net(x)
    net(x)
    assert calls == ["layer/w", "layer/w"]


def test_later_passes_follow_a_binding_swapped_in_by_functional_call():
    net = _Asks()
    x = torch.ones(2, 4)
    for _ in range(3):
        net(x)
    ones = {"layer/w": torch.ones(4, 3)}
    assert torch.equal(torch.func.functional_call(net, ones, (x,)), torch.full((2, 3), 4.0))
    assert not torch.equal(net(x), torch.full((2, 3), 4.0))   # the module's own weights again
