"""``ts.guard_filter`` and ``ScopedModule.compile``: compiled passes without the guards on
torchscope's own code, and with every guard that can fail."""

import ast
import copy
import pathlib
import types

import pytest
import torch

import torchscope as ts
from torchscope._compile import with_guard_filter
from tf1_helpers import SiameseMLP as MLP

SCALE = 1.0      # a global of the user's code, read by Scaled.forward


class Scaled(ts.ScopedModule):
    def forward(self, x):
        with ts.variable_scope("layer"):
            return x @ ts.get_variable("w", [4, 2]) * SCALE


@pytest.fixture
def net():
    torch.manual_seed(0)
    return MLP().build(torch.randn(3, 8), torch.randn(3, 8))


def _recording(seen):
    def keep(entries):
        kept = ts.guard_filter(entries)
        seen.extend(zip(entries, kept))
        return kept
    return keep


def _guards(net):
    """``(entry, kept by ts.guard_filter)`` for each of Dynamo's guards on a fresh compile of
    ``net``. Dynamo is reset first: it keeps compiled code per code object (one per
    ScopedModule class), so the entry an earlier test compiled for another instance of the
    class would serve this one, and nothing would be recorded."""
    torch.compiler.reset()
    seen = []
    compiled = torch.compile(net, backend="eager", fullgraph=True,
                             options={"guard_filter_fn": _recording(seen)})
    compiled(torch.randn(3, 8), torch.randn(3, 8))
    assert seen, "nothing was compiled"
    return seen


def test_the_filter_drops_guards_on_torchscope_code_only(net):
    seen = _guards(net)
    dropped = [entry for entry, keep in seen if not keep]
    kept = [entry for entry, keep in seen if keep]
    assert len(dropped) >= 10
    for entry in dropped:
        assert ("__import_torchscope" in entry.name or "__defaults__" in entry.name
                or entry.name in ("G['PassBinder']", "G['ScopeState']")
                or entry.name.startswith("G['ScopeState']._")), entry.name
        assert entry.name.startswith("G[")                                   # globals only
        # of the thread's scope state, only "the same object under two names" goes
        assert "_thread" not in entry.name or entry.guard_type == "DUPLICATE_INPUT"
    kept_names = {entry.name for entry in kept}
    # the module's parameters and pass state, the thread's scope state, the inputs
    assert "self._parameters['tower/fc0/w']" in kept_names
    assert "self._ts_built" in kept_names
    assert "thread.defaults.state" in kept_names          # read by the pass (a closure)
    assert {"args[0]", "args[1]"} <= kept_names


#: What a traced pass may read of torchscope's module globals (each costs plain torch.compile a
#: guard per call): the classes a pass instantiates (``ScopeState``'s tables are its class
#: attributes), the modules read for the thread's state, and ``get_variable``'s default
#: arguments. Initializers read one constant when the forward builds them
#: (``ts.zeros_initializer()``).
PASS_GLOBALS = {"PassBinder", "ScopeState", "initializers._FLOAT32"}
PASS_MODULES = {"_scope", "_variables", "initializers"}
#: The builtins torchscope's code in a traced pass may name: ``get_variable``'s checks of its
#: arguments (``name.__class__ is str``, ``callable(initializer)``; the scope entry's name check
#: reads ``str`` too). Each builtin named is a guard per call, kept by ``ts.guard_filter``.
PASS_BUILTINS = {"str", "callable"}


def _torchscope_global(name):
    """``G['__import_torchscope_dot__state'].OpNames`` -> ``_state.OpNames``; ``G['X']`` -> X."""
    head, _, rest = name[len("G['"):].partition("']")
    if head.startswith("__import_torchscope_dot_"):
        head = head[len("__import_torchscope_dot_"):]
        return head + rest.split("[")[0] if rest else head
    return head


def test_a_traced_pass_reads_only_the_torchscope_globals_it_needs(net):
    """A scope entry and a get_variable of an existing variable, traced, read no replay marker,
    name rule, index constant or helper function of torchscope's modules: each would be one
    more guard that plain ``torch.compile`` runs on every call of the compiled module."""
    seen = _guards(net)
    read = {_torchscope_global(entry.name) for entry, keep in seen
            if not keep and "__defaults__" not in entry.name}
    assert read - PASS_GLOBALS - PASS_MODULES == set()
    defaults = {entry.name.partition("__defaults__")[2] for entry, keep in seen
                if not keep and "__defaults__" in entry.name}
    # get_variable's checks of dtype, initializer, caching_device, partitioner, custom_getter
    assert defaults <= {"", "[1]", "[2]", "[6]", "[7]", "[10]"}


def test_a_traced_pass_names_only_the_builtins_it_needs(net):
    """A pass's own bookkeeping (its set of names, shape checks, new scope objects, subscope
    resets) names no builtin: each would be one more guard that every spelling of a compiled
    module runs on every call (after a training step, with the caches turned over, some tenths
    of a microsecond each: README, Performance)."""
    seen = _guards(net)
    package = str(pathlib.Path(ts.__file__).parent)
    named = {entry.name.split("['")[-1].rstrip("']") for entry, _ in seen
             if "__builtins_dict" in entry.name
             and entry.orig_guard.user_stack[-1].filename.startswith(package)}
    assert named, "no builtin guard found: the test no longer sees what it checks"
    assert named <= PASS_BUILTINS


def test_an_unfiltered_compile_guards_no_object_under_two_names(net):
    """Two global names for one mutable object (a class, a module, the thread's state) cost
    plain ``torch.compile`` a guard evaluated in Python on every call ("the two are still one
    object"), which made a compiled step measurably slower; a pass reads none that way."""
    seen = _guards(net)
    duplicates = [entry.name for entry, _ in seen if entry.guard_type == "DUPLICATE_INPUT"]
    assert duplicates == []


def test_a_filtered_compile_has_no_graph_breaks_and_matches_eager(net):
    compiled = torch.compile(net, fullgraph=True, options={"guard_filter_fn": ts.guard_filter})
    for _ in range(3):
        a, b = torch.randn(3, 8), torch.randn(3, 8)
        got, expected = compiled(a, b), net(a, b)
        torch.testing.assert_close(got[0], expected[0])
        torch.testing.assert_close(got[1], expected[1])


def test_a_filtered_compile_recompiles_when_the_users_globals_change():
    global SCALE
    module = Scaled().build(torch.ones(1, 4))
    compiled = torch.compile(module, backend="eager", fullgraph=True,
                             options={"guard_filter_fn": ts.guard_filter})
    x = torch.randn(3, 4)
    try:
        first = compiled(x)
        SCALE = 3.0
        torch.testing.assert_close(compiled(x), first * 3)
    finally:
        SCALE = 1.0


def test_a_filtered_compile_sees_a_replaced_parameter(net):
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    compiled = torch.compile(net, backend="eager", fullgraph=True,
                             options={"guard_filter_fn": ts.guard_filter})
    compiled(a, b)
    zeros = {name: torch.zeros_like(p) for name, p in net.state_dict().items()}
    net.load_state_dict(zeros, assign=True)
    assert torch.equal(compiled(a, b)[0], torch.zeros(3, 8))


def test_module_compile_trains_like_the_eager_module(net):
    twin = copy.deepcopy(net)
    twin.compile(fullgraph=True, backend="eager")
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    for model in (net, twin):
        out_a, out_b = model(a, b)
        (out_a - out_b).square().sum().backward()
    for (name, p), q in zip(net.named_parameters(), twin.parameters()):
        torch.testing.assert_close(p.grad, q.grad, msg=name)


def test_module_compile_passes_the_filter_to_torch_compile(net, monkeypatch):
    calls = []
    monkeypatch.setattr(torch, "compile", lambda fn, **kwargs: calls.append(kwargs) or fn)
    net.compile(fullgraph=True)
    assert calls[-1]["fullgraph"] is True
    assert calls[-1]["options"]["guard_filter_fn"] is ts.guard_filter
    net.compile(mode="reduce-overhead")      # torch.compile takes no options with a mode
    assert calls[-1] == {"mode": "reduce-overhead"}


def _entry(name, value):
    return types.SimpleNamespace(name=name, guard_type="CONSTANT_MATCH", has_value=True,
                                 value=value, derived_guard_types=(), is_global=True,
                                 orig_guard=None)


def test_a_callers_own_filter_still_applies():
    entries = [_entry("G['__import_torchscope_dot__state'].ENTER", "enter"),
               _entry("G['STEP']", 3), _entry("G['RATE']", 0.1)]
    assert ts.guard_filter(entries) == [False, True, True]
    options = {"guard_filter_fn": lambda es: [True, False, True], "max_autotune": True}
    combined = with_guard_filter(options)
    assert combined["guard_filter_fn"](entries) == [False, False, True]
    assert combined["max_autotune"] is True
    assert options["guard_filter_fn"](entries) == [True, False, True]   # the caller's dict


def test_the_filter_drops_a_class_constant_of_the_pass_only_when_it_is_torchscopes():
    """``ScopeState``'s table classes are read off the class the pass makes (``_COUNTS``):
    dropped while the value is torchscope's own, kept otherwise (a user's class that happens
    to have the name, an instance slot, a changed value)."""
    from torchscope._names import ScopeCounts
    entries = [_entry("G['ScopeState']._COUNTS", ScopeCounts),
               _entry("G['ScopeState']._COUNTS", dict),
               _entry("G['ScopeState'].store", None),
               _entry("G['MyState']._COUNTS", ScopeCounts)]
    assert ts.guard_filter(entries) == [False, True, True, True]


def test_torchscope_never_rebinds_its_module_globals():
    """What the filter relies on: no torchscope function assigns a module global."""
    package = pathlib.Path(ts.__file__).parent
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert not any(isinstance(node, ast.Global) for node in ast.walk(tree)), path
