"""TF1 conformance §3.8: ``ts.Variable`` naming (cases 87–89).

TF prints ``v:0``; torchscope's ``store.name_of`` gives the same name without ``:0``. Variable
names and ``get_variable`` display names share TF's op-name registry, which is case-insensitive.
"""

import pytest
import torch

import torchscope as ts


def test_variable_names_are_uniquified_case_insensitively(store):
    """§3.8 case 87: ``v``, ``v`` → ``v``, ``v_1``; unnamed → ``Variable``, ``Variable_1``;
    ``V`` after two ``v`` → ``V_2`` (the registry key is lower-cased)."""
    made = [ts.Variable(torch.zeros(1), name="v"), ts.Variable(torch.zeros(1), name="v"),
            ts.Variable(torch.zeros(1)), ts.Variable(torch.zeros(1)),
            ts.Variable(torch.zeros(1), name="V")]
    assert [store.name_of(v) for v in made] == ["v", "v_1", "Variable", "Variable_1", "V_2"]
    assert len({id(v) for v in made}) == 5
    assert [store[name] is v for name, v in zip(["v", "v_1", "Variable", "Variable_1", "V_2"],
                                                  made)] == [True] * 5


def test_variable_then_get_variable_same_name_displays_v_1(store):
    """§3.8 case 88: ``Variable(name="v")`` then ``get_variable("v")``: the get_variable key is
    ``v`` but its displayed name is ``v_1``; the Variable is invisible to reuse."""
    plain = ts.Variable(torch.zeros(1), name="v")
    shared = ts.get_variable("v", [1])
    assert plain is not shared
    assert (store.name_of(plain), store.name_of(shared)) == ("v", "v_1")
    with ts.variable_scope(ts.get_variable_scope(), reuse=True):
        assert ts.get_variable("v", [1]) is shared


def test_get_variable_then_variable_same_name_displays_v_1(store):
    """§3.8 case 88, the other order: ``get_variable("v")`` then ``Variable(name="v")`` →
    ``v`` and ``v_1``."""
    shared = ts.get_variable("v", [1])
    plain = ts.Variable(torch.zeros(1), name="v")
    assert (store.name_of(shared), store.name_of(plain)) == ("v", "v_1")
    with ts.variable_scope(ts.get_variable_scope(), reuse=True):
        assert ts.get_variable("v", [1]) is shared


def test_variable_is_not_shareable_by_name_through_get_variable(store):
    """§3.8 case 88: a ``Variable`` is not in the get_variable store, so reuse does not find
    it."""
    ts.Variable(torch.zeros(1), name="v")
    with ts.variable_scope(ts.get_variable_scope(), reuse=True):
        with pytest.raises(ts.VariableNotFoundError, match=r"Variable v does not exist"):
            ts.get_variable("v", [1])


def test_variable_follows_the_name_scope_of_each_variable_scope_entry(store):
    """§3.8 case 89: entering ``variable_scope("foo")`` twice opens name scopes ``foo`` and
    ``foo_1``, so ``Variable(name="w")`` is ``foo/w`` then ``foo_1/w`` (get_variable would
    use ``foo`` both times)."""
    with ts.variable_scope("foo"):
        first = ts.Variable(torch.zeros(1), name="w")
    with ts.variable_scope("foo"):
        second = ts.Variable(torch.zeros(1), name="w")
        shared = ts.get_variable("x", [1])
    assert (store.name_of(first), store.name_of(second)) == ("foo/w", "foo_1/w")
    assert store.name_of(shared) == "foo/x"


def test_variable_inside_name_scope_inside_variable_scope(store):
    """§3.8 case 89 (with §1.6): a name scope inside a variable scope adds to Variable names
    only."""
    with ts.variable_scope("foo"):
        with ts.name_scope("ns"):
            plain = ts.Variable(torch.zeros(1), name="w")
            shared = ts.get_variable("w", [1])
    assert (store.name_of(plain), store.name_of(shared)) == ("foo/ns/w", "foo/w")
