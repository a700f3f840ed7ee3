"""TF1 conformance §3.7: collections and local variables (cases 76–86).

Names are TF's display names without ``:0`` (``store.name_of``); ``synchronization`` takes
``ts.VariableSynchronization`` members, as TF1's ``tf.VariableSynchronization``.
"""

import inspect

import pytest

import torchscope as ts

GK = ts.GraphKeys
ON_READ = ts.VariableSynchronization.ON_READ
ON_WRITE = ts.VariableSynchronization.ON_WRITE


def names(store, variables):
    return [store.name_of(v) for v in variables]


# --------------------------------------------------------------------------- case 76

def test_scope_get_collection_filters_by_scope_without_leaking_into_prefix_sibling(store):
    """§3.7 case 76: ``scope.get_collection`` sees only its own scope's variables; a scope named
    ``..._foo`` does not see ``..._foo_`` (the filter is ``scope.name + "/"``); the root sees
    everything, in creation order."""
    ts.get_variable("testGetCollection_a", [])
    ts.get_variable("testGetCollection_b", [], trainable=False)
    with ts.variable_scope("testGetCollection_foo_") as scope1:
        ts.get_variable("testGetCollection_a", [])
        ts.get_variable("testGetCollection_b", [], trainable=False)
        assert names(store, scope1.get_collection(GK.TRAINABLE_VARIABLES)) == [
            "testGetCollection_foo_/testGetCollection_a"]
        assert names(store, scope1.get_collection(GK.GLOBAL_VARIABLES)) == [
            "testGetCollection_foo_/testGetCollection_a",
            "testGetCollection_foo_/testGetCollection_b"]
    with ts.variable_scope("testGetCollection_foo") as scope2:
        ts.get_variable("testGetCollection_a", [])
        ts.get_variable("testGetCollection_b", [], trainable=False)
        assert names(store, scope2.get_collection(GK.TRAINABLE_VARIABLES)) == [
            "testGetCollection_foo/testGetCollection_a"]
        assert names(store, scope2.get_collection(GK.GLOBAL_VARIABLES)) == [
            "testGetCollection_foo/testGetCollection_a",
            "testGetCollection_foo/testGetCollection_b"]
    root = ts.get_variable_scope()
    assert names(store, root.get_collection(GK.GLOBAL_VARIABLES)) == [
        "testGetCollection_a", "testGetCollection_b",
        "testGetCollection_foo_/testGetCollection_a",
        "testGetCollection_foo_/testGetCollection_b",
        "testGetCollection_foo/testGetCollection_a",
        "testGetCollection_foo/testGetCollection_b"]
    assert names(store, root.get_collection(GK.TRAINABLE_VARIABLES)) == [
        "testGetCollection_a",
        "testGetCollection_foo_/testGetCollection_a",
        "testGetCollection_foo/testGetCollection_a"]


# --------------------------------------------------------------------------- cases 77, 78

def test_get_variable_trainable_follows_trainable_and_synchronization(store):
    """§3.7 case 77: ``trainable=False`` and ``ON_READ`` (without ``trainable=True``) keep a
    ``get_variable`` variable out of TRAINABLE_VARIABLES; ``ON_READ`` + ``trainable=True`` and
    ``ON_WRITE`` put it in."""
    prefix = "testGetTrainableVariables_foo/testGetTrainableVariables_"
    ts.get_variable("testGetTrainableVariables_a", [])
    with ts.variable_scope("testGetTrainableVariables_foo") as scope:
        ts.get_variable("testGetTrainableVariables_b", [])
        ts.get_variable("testGetTrainableVariables_c", [], trainable=False)
        d = ts.get_variable("testGetTrainableVariables_d", [], synchronization=ON_READ)
        assert names(store, scope.trainable_variables()) == [prefix + "b"]
        assert d.requires_grad is False
        e = ts.get_variable("testGetTrainableVariables_e", [], synchronization=ON_READ,
                            trainable=True)
        f = ts.get_variable("testGetTrainableVariables_f", [], synchronization=ON_WRITE)
        assert names(store, scope.trainable_variables()) == [prefix + "b", prefix + "e",
                                                             prefix + "f"]
        assert e.requires_grad is True and f.requires_grad is True


def test_variable_trainable_follows_trainable_and_synchronization(store):
    """§3.7 case 78: the same rules for ``ts.Variable``, which is named through the name scope
    the variable scope opened."""
    prefix = "testGetTrainableVariables_foo/testGetTrainableVariables_"
    ts.Variable(1.0, name="testGetTrainableVariables_a")
    with ts.variable_scope("testGetTrainableVariables_foo") as scope:
        ts.Variable(1.0, name="testGetTrainableVariables_b")
        ts.Variable(1.0, name="testGetTrainableVariables_c", trainable=False)
        ts.Variable(1.0, name="testGetTrainableVariables_d", synchronization=ON_READ)
        assert names(store, scope.trainable_variables()) == [prefix + "b"]
        ts.Variable(1.0, name="testGetTrainableVariables_e", synchronization=ON_READ,
                    trainable=True)
        ts.Variable(1.0, name="testGetTrainableVariables_f", synchronization=ON_WRITE)
        assert names(store, scope.trainable_variables()) == [prefix + "b", prefix + "e",
                                                             prefix + "f"]


# --------------------------------------------------------------------------- cases 79, 80

def test_scope_global_variables_lists_only_that_scope(store):
    """§3.7 case 79: ``scope.global_variables()`` excludes variables outside the scope."""
    ts.get_variable("testGetGlobalVariables_a", [])
    with ts.variable_scope("testGetGlobalVariables_foo") as scope:
        ts.get_variable("testGetGlobalVariables_b", [])
        assert names(store, scope.global_variables()) == [
            "testGetGlobalVariables_foo/testGetGlobalVariables_b"]


def test_scope_local_variables_lists_local_collection_members_of_that_scope(store):
    """§3.7 case 80: ``collections=[LOCAL_VARIABLES]`` makes a variable local; the scope's
    ``local_variables()`` holds only its own local ones."""
    ts.get_variable("a", [], collections=[GK.LOCAL_VARIABLES])
    with ts.variable_scope("foo") as scope:
        ts.get_variable("b", [], collections=[GK.LOCAL_VARIABLES])
        ts.get_variable("c", [])
    assert names(store, scope.local_variables()) == ["foo/b"]
    assert names(store, ts.local_variables()) == ["a", "foo/b"]


# --------------------------------------------------------------------------- cases 81, 82

def test_get_local_variable_is_local_in_extra_collections_and_reusable(store):
    """§3.7 case 81: ``get_local_variable`` in a re-entered scope: named ``outer/w``, in LOCAL
    and the requested collection, not trainable; reusing by the same scope returns it."""
    with ts.variable_scope("outer") as outer:
        pass
    with ts.variable_scope(outer, "default", []):
        local_var = ts.get_local_variable("w", [], collections=["foo"])
    assert store.name_of(local_var) == "outer/w"
    assert len(ts.local_variables()) == 1 and ts.local_variables()[0] is local_var
    assert len(ts.get_collection("foo")) == 1 and ts.get_collection("foo")[0] is local_var
    assert not any(v is local_var for v in ts.get_collection(GK.TRAINABLE_VARIABLES))
    assert not any(v is local_var for v in ts.get_collection(GK.GLOBAL_VARIABLES))
    with ts.variable_scope(outer, "default", reuse=True):
        again = ts.get_local_variable("w", [])
    assert again is local_var
    assert store.name_of(again) == "outer/w"


TF1_GET_VARIABLE_ARGS = [
    "name", "shape", "dtype", "initializer", "regularizer", "trainable", "collections",
    "caching_device", "partitioner", "validate_shape", "use_resource", "custom_getter",
    "constraint", "synchronization", "aggregation"]


def test_get_local_variable_signature_matches_get_variable_and_tf1_order():
    """§3.7 case 82: ``get_variable`` and ``get_local_variable`` take the same arguments, in
    TF1's order (so positional calls port unchanged)."""
    get_variable_args = list(inspect.signature(ts.get_variable).parameters)
    get_local_args = list(inspect.signature(ts.get_local_variable).parameters)
    assert get_variable_args == get_local_args
    assert get_variable_args == TF1_GET_VARIABLE_ARGS


# --------------------------------------------------------------------------- case 83

@pytest.mark.parametrize("kwargs, local, expected, trainable", [
    ({}, False, {GK.GLOBAL_VARIABLES, GK.TRAINABLE_VARIABLES}, True),
    ({"trainable": False}, False, {GK.GLOBAL_VARIABLES}, False),
    ({}, True, {GK.LOCAL_VARIABLES}, False),
    ({"collections": ["mine"]}, False, {"mine", GK.TRAINABLE_VARIABLES}, True),
    ({"collections": ["mine", GK.GLOBAL_VARIABLES], "trainable": False}, False,
     {"mine", GK.GLOBAL_VARIABLES}, False),
    ({"synchronization": ON_READ}, False, {GK.GLOBAL_VARIABLES}, False),
    ({"collections": [GK.MODEL_VARIABLES, GK.GLOBAL_VARIABLES]}, False,
     {GK.MODEL_VARIABLES, GK.GLOBAL_VARIABLES, GK.TRAINABLE_VARIABLES}, True),
], ids=["default", "not_trainable", "local", "mine_only", "mine_and_global_not_trainable",
        "on_read", "model_and_global"])
def test_get_variable_default_collections(store, kwargs, local, expected, trainable):
    """§3.7 case 83: ``collections=None`` means GLOBAL; TRAINABLE is appended when trainable, so
    ``collections=["mine"]`` is not GLOBAL; MODEL only when asked; ON_READ is not trainable."""
    make = ts.get_local_variable if local else ts.get_variable
    v = make("v", [1], **kwargs)
    every_key = {GK.GLOBAL_VARIABLES, GK.TRAINABLE_VARIABLES, GK.LOCAL_VARIABLES,
                 GK.MODEL_VARIABLES, "mine"}
    found_in = {key for key in every_key if any(item is v for item in ts.get_collection(key))}
    assert found_in == expected
    assert v.requires_grad is trainable


# --------------------------------------------------------------------------- cases 84, 85

def test_get_local_variable_ignores_trainable_true(store):
    """§3.7 case 84: ``get_local_variable(..., trainable=True)`` is still not trainable."""
    c = ts.get_local_variable("c", [1], trainable=True)
    assert c.requires_grad is False
    assert store.record_of(c).trainable is False
    assert ts.trainable_variables() == []
    assert len(ts.local_variables()) == 1 and ts.local_variables()[0] is c


@pytest.mark.parametrize("getter", [ts.get_local_variable, ts.get_variable],
                         ids=["get_local_variable", "get_variable"])
def test_local_and_global_variables_share_one_namespace(store, getter):
    """§3.7 case 85: a local variable is reused by name by either getter."""
    with ts.variable_scope("s"):
        c = ts.get_local_variable("c", [1])
    with ts.variable_scope("s", reuse=True):
        assert getter("c", [1]) is c
    assert store.name_of(c) == "s/c"


def test_get_variable_with_local_name_without_reuse_raises(store):
    """§3.7 case 85 (the namespace is shared, so a global variable of a local's name clashes)."""
    with ts.variable_scope("s"):
        ts.get_local_variable("c", [1])
    with ts.variable_scope("s"):
        with pytest.raises(ts.VariableExistsError, match=r"Variable s/c already exists"):
            ts.get_variable("c", [1])


# --------------------------------------------------------------------------- case 86

def test_scope_filter_is_regex_prefix_for_functions_but_slash_terminated_for_scopes(store):
    """§3.7 case 86: ``ts.global_variables("foo")`` is a regex prefix match (it also returns
    ``foo_bar/b``), while ``scope.global_variables()`` appends "/" and does not."""
    with ts.variable_scope("foo") as scope_foo:
        ts.get_variable("a", [1])
    with ts.variable_scope("foo_bar"):
        ts.get_variable("b", [1])
    assert names(store, scope_foo.global_variables()) == ["foo/a"]
    assert names(store, ts.global_variables("foo")) == ["foo/a", "foo_bar/b"]
    assert names(store, store.global_variables("foo")) == ["foo/a", "foo_bar/b"]
    assert names(store, ts.get_collection(GK.GLOBAL_VARIABLES, "foo/")) == ["foo/a"]


def test_scope_filter_interprets_regex_metacharacters(store):
    """§3.7 case 86: the scope argument is a regex, so ``.`` matches any character."""
    with ts.variable_scope("fooXbar"):
        ts.get_variable("a", [1])
    with ts.variable_scope("foo.bar"):
        ts.get_variable("b", [1])
    assert names(store, ts.global_variables("foo.bar")) == ["fooXbar/a", "foo.bar/b"]
    assert names(store, ts.global_variables(r"foo\.bar")) == ["foo.bar/b"]
