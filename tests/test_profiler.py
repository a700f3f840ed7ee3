"""Name scopes label the enclosed code in ``torch.profiler`` — and cost nothing without one.

TF1 put ops under their name scope; torchscope has no ops, so the code run inside
``ts.name_scope`` / ``ts.variable_scope`` is wrapped in a ``record_function`` labelled with the
full (uniquified) name scope, such as ``outer/inner``. When no profiler runs, no label object
is made at all.
"""

import pytest
import torch

import torchscope as ts

X = torch.randn(16, 16)


def _events(prof):
    return list(prof.events())


def _named(prof, name):
    return [event for event in _events(prof) if event.name == name]


def _child_names(event):
    return {child.name for child in event.cpu_children}


def test_nested_variable_scopes_label_enclosed_matmul(store):
    with torch.profiler.profile() as prof:
        with ts.variable_scope("outer"):
            with ts.variable_scope("inner"):
                X @ X
    (outer,) = _named(prof, "outer")
    (inner,) = _named(prof, "outer/inner")
    assert "outer/inner" in _child_names(outer)
    assert "aten::matmul" in _child_names(inner)
    assert outer.time_range.start <= inner.time_range.start
    assert inner.time_range.end <= outer.time_range.end


def test_name_scope_inside_variable_scope_labels_full_path(store):
    with torch.profiler.profile() as prof:
        with ts.variable_scope("tower"):
            w = ts.get_variable("w", [16, 16])
            with ts.name_scope("dense"):
                X @ w
    (dense,) = _named(prof, "tower/dense")
    assert "aten::matmul" in _child_names(dense)


def test_labels_follow_tf_name_scope_uniquification(store):
    """Re-entering a scope by name opens ``outer_1`` (TF's name-scope rule); the label says so,
    so the two passes stay apart in a trace."""
    with torch.profiler.profile() as prof:
        for _ in range(2):
            with ts.variable_scope("outer", reuse=ts.AUTO_REUSE):
                with ts.name_scope("inner"):
                    X @ X
    assert len(_named(prof, "outer/inner")) == 1
    assert len(_named(prof, "outer_1/inner")) == 1


def test_reentered_scope_object_labels_with_current_name_scope(store):
    """§3.2 case 14: ``vs(tower4)`` inside ``tower6`` opens name scope ``tower6/tower4``."""
    with ts.variable_scope("tower4") as tower4:
        pass
    with torch.profiler.profile() as prof:
        with ts.variable_scope("tower6"):
            with ts.variable_scope(tower4, reuse=True):
                X @ X
    (label,) = _named(prof, "tower6/tower4")
    assert "aten::matmul" in _child_names(label)


def test_name_scope_with_trailing_slash_reenters_exact_label(store):
    with ts.name_scope("block") as block:
        pass
    with torch.profiler.profile() as prof:
        with ts.name_scope(block):
            X @ X
    assert len(_named(prof, "block")) == 1
    assert _named(prof, "block_1") == []


def test_auxiliary_name_scope_false_adds_no_label(store):
    with torch.profiler.profile() as prof:
        with ts.variable_scope("outer"):
            with ts.variable_scope("inner", auxiliary_name_scope=False):
                X @ X
    assert _named(prof, "outer/inner") == []
    assert "aten::matmul" in _child_names(_named(prof, "outer")[0])


def test_label_closes_when_the_block_raises(store):
    with torch.profiler.profile() as prof:
        with pytest.raises(ArithmeticError):
            with ts.variable_scope("failing"):
                X @ X
                raise ArithmeticError("inside the scope")
        with ts.variable_scope("after"):
            X @ X
    (failing,) = _named(prof, "failing")
    (after,) = _named(prof, "after")
    assert failing.time_range.end <= after.time_range.start
    assert "after" not in _child_names(failing)


@pytest.fixture
def counted_record_function(monkeypatch):
    """Counts the profiler label objects torchscope makes (the real class still runs)."""
    real = torch.autograd.profiler.record_function
    made = []

    def counting(*args, **kwargs):
        made.append(args[0] if args else kwargs.get("name"))
        return real(*args, **kwargs)

    monkeypatch.setattr(torch.autograd.profiler, "record_function", counting)
    return made


def _build():
    with ts.variable_scope("outer"):
        with ts.variable_scope("inner"):
            ts.get_variable("w", [2])
            with ts.name_scope("ns"):
                X @ X
        with ts.variable_scope(None, default_name="dense"):
            pass


def test_no_label_object_made_without_a_profiler(store, counted_record_function):
    _build()
    assert counted_record_function == []


def test_label_objects_made_only_while_profiling(store, counted_record_function):
    """The patched factory is the one torchscope calls: with a profiler it is used for every
    scope, and afterwards again not at all."""
    with torch.profiler.profile():
        _build()
    assert counted_record_function == ["outer", "outer/inner", "outer/inner/ns", "outer/dense"]
    del counted_record_function[:]
    with ts.variable_scope("again"):
        X @ X
    assert counted_record_function == []


class _Layer(ts.ScopedModule):
    def forward(self, x):
        with ts.variable_scope("layer"):
            with ts.name_scope("matmul"):
                return x @ ts.get_variable("w", [16, 16])


def test_eager_pass_labels_its_scopes_while_profiling(counted_record_function):
    net = _Layer().build(X)
    with torch.profiler.profile():
        net(X)
    assert counted_record_function == ["layer", "layer/matmul"]


def test_compiled_pass_does_not_recompile_when_a_profiler_starts():
    """A traced pass does not read the profiler flag, so the compiled module has no guard on
    it: profiling a compiled model measures that model, not a recompilation of it."""
    torch._dynamo.reset()
    net = _Layer().build(X)
    graphs = []

    def counting_backend(graph, example_inputs):
        graphs.append(graph)
        return graph.forward

    compiled = torch.compile(net, backend=counting_backend, fullgraph=True)
    expected = net(X)
    assert torch.equal(compiled(X), expected)
    with torch.profiler.profile():
        assert torch.equal(compiled(X), expected)
    assert len(graphs) == 1
