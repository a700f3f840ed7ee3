"""TF1 conformance §3.5: scope-level defaults and their inheritance (cases 56-64).

Restated for torchscope: a variable's constraint is read from ``store.record_of(v).constraint``;
regularization losses are computed on demand, and TF1's loss op names
(``<var>/Regularizer/...``) are observed through the scope filter of
``store.regularization_losses(scope)``; ``caching_device`` makes ``get_variable`` return a
differentiable copy on a torch device ("meta" shows where copies go on a CPU-only machine).
"""


import pytest
import torch

import torchscope as ts
from tf1_helpers import first_line



def snapshot(store):
    keys = (ts.GraphKeys.GLOBAL_VARIABLES, ts.GraphKeys.TRAINABLE_VARIABLES)
    return (len(store), list(store),
            {key: [store.name_of(v) for v in store.get_collection(key)] for key in keys},
            len(store.regularization_losses()), ts.get_variable_scope(), ts.get_name_scope())


# ------------------------------------------------------------------------------ case 56


def test_scope_initializer_by_name_and_by_object(store):
    """§3.5 case 56 (VST testVarScopeInitializer): a scope initializer reaches get_variable."""
    init = ts.constant_initializer(0.3)
    with ts.variable_scope("tower0") as tower:
        with ts.variable_scope("foo", initializer=init):
            v = ts.get_variable("v", [])
            assert v.item() == pytest.approx(0.3)
        with ts.variable_scope(tower, initializer=init):
            w = ts.get_variable("w", [])
            assert w.item() == pytest.approx(0.3)
    assert (store.name_of(v), store.name_of(w)) == ("tower0/foo/v", "tower0/w")


def test_explicit_initializer_overrides_scope_initializer(store):
    """§3.5 case 56 / §1.7: get_variable's own initializer wins over the scope's."""
    with ts.variable_scope("s", initializer=ts.constant_initializer(0.3)):
        v = ts.get_variable("v", [2], initializer=ts.ones_initializer())
    assert torch.equal(v.detach(), torch.ones(2))


# ------------------------------------------------------------------------------ case 57


def test_scope_constraint_by_name_and_by_object(store):
    """§3.5 case 57 (VST testVarScopeConstraint): v's and w's constraint is the scope's."""
    constraint = lambda x: 0.0 * x  # noqa: E731 - the TF test's own constraint
    with ts.variable_scope("tower1") as tower:
        with ts.variable_scope("foo", constraint=constraint):
            v = ts.get_variable("v", [], initializer=ts.ones_initializer())
            assert store.record_of(v).constraint is constraint
        with ts.variable_scope(tower, constraint=constraint):
            w = ts.get_variable("w", [], initializer=ts.ones_initializer())
            assert store.record_of(w).constraint is constraint
    store.apply_constraints()
    assert (v.item(), w.item()) == (0.0, 0.0)


# ------------------------------------------------------------------------------ case 58


def test_scope_constraint_is_not_inherited(store):
    """§3.5 case 58: a child scope (by name) and a re-entry (by object) drop the constraint."""
    constraint = lambda x: x.clamp(0.0, 1.0)  # noqa: E731
    with ts.variable_scope("a", constraint=constraint) as a:
        v = ts.get_variable("v", [1])
        with ts.variable_scope("b") as b:
            child = ts.get_variable("v", [1])
    with ts.variable_scope(a) as a2:
        again = ts.get_variable("w", [1])
    assert store.record_of(v).constraint is constraint
    assert store.record_of(child).constraint is None
    assert store.record_of(again).constraint is None
    assert (a.constraint, b.constraint, a2.constraint) == (constraint, None, None)


# ------------------------------------------------------------------------------ case 59


def test_scope_dtype_by_name_and_by_object(store):
    """§3.5 case 59 (VST testVarScopeDType): float16 scopes create float16 variables."""
    with ts.variable_scope("tower2") as tower:
        with ts.variable_scope("foo", dtype=torch.float16):
            v = ts.get_variable("v", [])
        with ts.variable_scope(tower, dtype=torch.float16):
            w = ts.get_variable("w", [])
    assert v.dtype is torch.float16
    assert w.dtype is torch.float16


def test_scope_dtype_takes_part_in_reuse_check(store):
    """§3.5 case 59 / §1.7: the scope dtype is the requested dtype of a reuse (E4)."""
    with ts.variable_scope("s"):
        ts.get_variable("v", [])
    with ts.variable_scope("s", reuse=True, dtype=torch.float16):
        with pytest.raises(ts.DTypeMismatchError, match=first_line(
                "Trying to share variable s/v, but specified dtype float16 and found dtype "
                "float32.")):
            ts.get_variable("v", [])


# ------------------------------------------------------------------------------ case 60


def test_child_scope_inherits_defaults_except_constraint(store):
    """§3.5 case 60: initializer, regularizer, dtype, custom_getter inherited; constraint not."""
    init = ts.zeros_initializer()
    reg = ts.regularizers.l2(1.0)
    getter = lambda getter, *args, **kwargs: getter(*args, **kwargs)  # noqa: E731
    constraint = lambda x: x  # noqa: E731
    with ts.variable_scope("a", initializer=init, regularizer=reg, dtype=torch.float64,
                           constraint=constraint, custom_getter=getter):
        with ts.variable_scope("child") as child:
            assert child.initializer is init
            assert child.regularizer is reg
            assert child.dtype is torch.float64
            assert child.custom_getter is getter
            assert child.constraint is None
            v = ts.get_variable("v", [2])
    assert v.dtype is torch.float64
    assert torch.equal(v.detach(), torch.zeros(2, dtype=torch.float64))
    assert len(store.regularization_losses()) == 1


@pytest.mark.parametrize("attribute, value", [
    ("caching_device", "meta"),
    ("partitioner", ts.fixed_size_partitioner(2)),
])
def test_child_scope_inherits_caching_device_and_partitioner(store, attribute, value):
    """§3.5 case 60 / §1.7: caching_device and partitioner are inherited too."""
    with ts.variable_scope("a", **{attribute: value}):
        with ts.variable_scope("child") as child:
            assert getattr(child, attribute) is value


# ------------------------------------------------------------------------------ case 61


def test_object_reentry_explicit_argument_overrides_copy_only(store):
    """§3.5 case 61: vs(a, initializer=i2) is a new object with i2; a keeps i1 and float16."""
    i1, i2 = ts.zeros_initializer(), ts.ones_initializer()
    with ts.variable_scope("a", initializer=i1, dtype=torch.float16) as a:
        pass
    with ts.variable_scope(a, initializer=i2) as a2:
        v = ts.get_variable("v", [2])
    assert a2 is not a
    assert a2.initializer is i2
    assert a.initializer is i1
    assert a2.dtype is torch.float16
    assert v.dtype is torch.float16 and torch.equal(v.detach(), torch.ones(2, dtype=torch.float16))


# ------------------------------------------------------------------------------ case 62


def test_scope_regularizer_set_disable_and_no_loss_on_reuse(store):
    """§3.5 case 62 (VST testVarScopeRegularizer): losses [0.4, 0.4, 0.5]; none on reuse."""
    init = ts.constant_initializer(0.3)

    def regularizer1(v):
        return v.mean() + 0.1

    def regularizer2(v):
        return v.mean() + 0.2

    with ts.variable_scope("tower3", regularizer=regularizer1) as tower:
        with ts.variable_scope("foo", initializer=init):
            v = ts.get_variable("v", [])
            losses = ts.get_regularization_losses()
            assert len(losses) == 1
            assert losses[0].item() == pytest.approx(0.4)
        with ts.variable_scope(tower, initializer=init) as vs:
            ts.get_variable("u", [])
            vs.set_regularizer(regularizer2)
            ts.get_variable("w", [])
            # The next three are not regularized: that is how regularization is disabled.
            ts.get_variable("x", [], regularizer=ts.no_regularizer)
            with ts.variable_scope("baz", regularizer=ts.no_regularizer):
                ts.get_variable("y", [])
            vs.set_regularizer(ts.no_regularizer)
            ts.get_variable("z", [])
            losses = ts.get_regularization_losses()
            assert [loss.item() for loss in losses] == pytest.approx([0.4, 0.4, 0.5])
        with ts.variable_scope("foo", reuse=True):
            assert ts.get_variable("v", []) is v       # tower3/foo/v reused
            assert len(ts.get_regularization_losses()) == 3   # no new loss added


def test_regularization_losses_follow_current_values(store):
    """§3.5 case 62, torchscope's documented difference: losses are computed on demand."""
    with ts.variable_scope("s", regularizer=lambda v: v.mean() + 0.1,
                           initializer=ts.constant_initializer(0.3)):
        v = ts.get_variable("v", [])
    with torch.no_grad():
        v.fill_(1.0)
    assert ts.get_regularization_loss().item() == pytest.approx(1.1)


# ------------------------------------------------------------------------------ case 63


def test_regularization_losses_are_named_after_their_variables(store):
    """§3.5 case 63: losses for s/a and s/t/c (TF: s/a/Regularizer/add:0, s/t/c/...), 2 total."""
    calls = []

    def regularizer(w):
        calls.append(store.name_of(w))
        return w.sum()

    with ts.variable_scope("s", regularizer=regularizer):
        a = ts.get_variable("a", [1])
        ts.get_variable("b", [1], regularizer=ts.no_regularizer)
        with ts.variable_scope("t"):
            ts.get_variable("c", [1])
    with ts.variable_scope("s", reuse=True):
        assert ts.get_variable("a", [1], regularizer=regularizer) is a
    assert len(store.regularization_losses("s/a/Regularizer/")) == 1
    assert len(store.regularization_losses("s/t/c/Regularizer/")) == 1
    assert store.regularization_losses("s/b/Regularizer/") == []
    assert len(ts.get_regularization_losses()) == 2
    assert "s/b" not in calls


# ------------------------------------------------------------------------------ case 64


def test_scope_caching_device_is_inherited_overridden_and_set(store):
    """§3.5 case 64 (VST testVarScopeCachingDevice), restated with torch devices."""
    with ts.variable_scope("tower"):
        with ts.variable_scope("caching", caching_device="meta"):
            v = ts.get_variable("v", [])
            assert v.device.type == "meta"
            assert v is not store["tower/caching/v"]
            assert store["tower/caching/v"].device.type == "cpu"
            with ts.variable_scope("child"):
                v2 = ts.get_variable("v", [])
                assert v2.device.type == "meta"
            with ts.variable_scope("not_cached", caching_device=""):
                v2_not_cached = ts.get_variable("v", [])
                assert v2_not_cached is store["tower/caching/not_cached/v"]
            with ts.variable_scope("not_cached_identity_device",
                                   caching_device=lambda op: op.device):
                v2_identity = ts.get_variable("v", [])
                assert v2_identity is store["tower/caching/not_cached_identity_device/v"]
            with ts.variable_scope("we_will_do_it_live") as vs_live:
                vs_live.set_caching_device("/cpu:0")
                v_live = ts.get_variable("v", [])
                assert v_live is store["tower/caching/we_will_do_it_live/v"]
        v_tower = ts.get_variable("v", [])
        assert v_tower is store["tower/v"]


def test_scope_caching_device_set_on_scope_without_one(store):
    """§3.5 case 64: set_caching_device on a live scope object takes effect at once."""
    with ts.variable_scope("live") as live:
        live.set_caching_device("meta")
        v = ts.get_variable("v", [])
    assert v.device.type == "meta"


def test_cached_copy_is_differentiable(store):
    """§3.5 case 64, torchscope's documented difference: the copy keeps the autograd link."""
    with ts.variable_scope("s", caching_device="meta"):
        v = ts.get_variable("v", [2])
    assert v.requires_grad and v.grad_fn is not None
    assert not isinstance(v, torch.nn.Parameter)


@pytest.mark.parametrize("device", ["/job:moo", "/job:live/replica:0"])
def test_job_only_caching_device_raises(store, device):
    """§3.5 case 64: a TF device string naming no device type has no torch meaning."""
    with ts.variable_scope("caching", caching_device=device):
        with pytest.raises(ts.VariableArgumentError, match=first_line(
                f"Cannot place a variable copy on {device!r}: it names no device type.")):
            ts.get_variable("v", [])


def test_failed_job_only_caching_device_leaves_store_unchanged(store):
    """§3.5 case 64 + DESIGN §2.2: the refused device is caught before anything is created."""
    ts.get_variable("a", [1], regularizer=lambda w: w.sum())
    with ts.variable_scope("caching", caching_device="/job:moo") as scope:
        before = snapshot(store)
        with pytest.raises(ts.VariableArgumentError):
            ts.get_variable("v", [], regularizer=lambda w: w.sum())
        assert snapshot(store) == before
        assert ts.get_variable_scope() is scope
        scope.set_caching_device(None)
        v = ts.get_variable("v", [])
    assert store.name_of(v) == "caching/v"
    assert store["caching/v"] is v
