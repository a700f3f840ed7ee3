"""TF1 conformance §3.1: store-level basics (cases 1-13), restated for torchscope.

TF1's ``_VariableStore.get_variable(name, shape, reuse=...)`` is ``store.get_variable``; there,
``reuse=None`` behaves as AUTO_REUSE. Names carry no ``:0``. Messages open with TF1's sentence,
``tf.`` spelled ``ts.``, and continue with why/fix paragraphs.
"""


import pytest
import torch

import torchscope as ts
from tf1_helpers import first_line, exists_msg, missing_msg

GK = ts.GraphKeys





def names(store, items):
    return [store.name_of(v) for v in items]


def snapshot(store, extra_keys=()):
    """Everything a failed call must leave as it was: variables, collections, losses, scopes."""
    keys = (GK.GLOBAL_VARIABLES, GK.TRAINABLE_VARIABLES, GK.LOCAL_VARIABLES) + tuple(extra_keys)
    return (len(store), list(store),
            {key: names(store, store.get_collection(key)) for key in keys},
            len(store.regularization_losses()),
            ts.get_variable_scope(), ts.get_name_scope())


# ------------------------------------------------------------------------------ case 1


def test_store_get_variable_twice_with_default_reuse_returns_same_object(store):
    """§3.1 case 1: store-level reuse=None behaves like AUTO_REUSE (get or create)."""
    v = store.get_variable("v", [1])
    v1 = store.get_variable("v", [1])
    assert v is v1
    assert isinstance(v, torch.nn.Parameter)
    assert len(store) == 1


# ------------------------------------------------------------------------------ case 2


@pytest.mark.parametrize("reuse", [None, ts.AUTO_REUSE, True])
def test_store_get_variable_existing_name_is_returned_unless_reuse_false(store, reuse):
    """§3.1 case 2: an existing name is returned for reuse None/AUTO_REUSE/True."""
    v = store.get_variable("v", [1])
    assert store.get_variable("v", [1], reuse=reuse) is v
    assert len(store) == 1


def test_store_get_variable_reuse_false_existing_name_raises(store):
    """§3.1 case 2: reuse=False on an existing name raises E1 ("already exists")."""
    store.get_variable("v", [1])
    with pytest.raises(ts.VariableExistsError, match=first_line(exists_msg("v"))):
        store.get_variable("v", [1], reuse=False)


@pytest.mark.parametrize("reuse", [None, ts.AUTO_REUSE, False])
def test_store_get_variable_missing_name_is_created_unless_reuse_true(store, reuse):
    """§3.1 case 2: a missing name is created for reuse None/AUTO_REUSE/False."""
    w = store.get_variable("w", [1], reuse=reuse)
    assert store["w"] is w
    assert store.name_of(w) == "w"


def test_store_get_variable_reuse_true_missing_name_raises(store):
    """§3.1 case 2: reuse=True on a missing name raises E2 ("does not exist")."""
    store.get_variable("v", [1])
    with pytest.raises(ts.VariableNotFoundError, match=first_line(missing_msg("u"))):
        store.get_variable("u", [1], reuse=True)


def test_store_name_exists_sequence_from_tf_test(store):
    """§3.1 case 2 (VST testNameExists), the whole sequence in order."""
    v = store.get_variable("v", [1])
    assert store.get_variable("v", [1]) is v
    w = store.get_variable("w", [1], reuse=False)
    with pytest.raises(ValueError, match="already exists"):
        store.get_variable("v", [1], reuse=False)
    assert store.get_variable("v", [1], reuse=True) is v
    with pytest.raises(ValueError, match="does not exist"):
        store.get_variable("u", [1], reuse=True)
    assert list(store) == ["v", "w"]
    assert store["w"] is w


# ------------------------------------------------------------------------------ case 3


def test_store_without_scope_names_variables_by_their_plain_names(store):
    """§3.1 case 3: a nameless store gives names {"v1", "v2"} (TF: "v1:0", "v2:0")."""
    v1 = store.get_variable("v1", [2])
    v2 = store.get_variable("v2", [2])
    assert {store.name_of(v1), store.name_of(v2)} == {"v1", "v2"}
    assert set(store) == {"v1", "v2"}
    assert store["v1"] is v1 and store["v2"] is v2


# ------------------------------------------------------------------------------ cases 4-6


def test_get_variable_twice_in_same_scope_raises_already_exists(store):
    """§3.1 case 4: a duplicate in one non-reusing scope raises E1 naming one/v."""
    with ts.variable_scope("one"):
        ts.get_variable("v", [1])
        with pytest.raises(ts.VariableExistsError, match=first_line(exists_msg("one/v"))):
            ts.get_variable("v", [1])


def test_already_exists_error_is_a_value_error_that_says_where_it_was_defined(store):
    """§3.1 case 4: E1 subclasses ValueError; like TF1 ref variables it names the origin."""
    with ts.variable_scope("one"):
        ts.get_variable("v", [1])
        with pytest.raises(ValueError) as info:
            ts.get_variable("v", [1])
    assert "Originally defined at:" in str(info.value)
    assert __file__ in str(info.value)


def test_reentering_scope_by_name_without_reuse_raises_already_exists(store):
    """§3.1 case 5: re-entering "towerA" by name without reuse raises E1."""
    with ts.variable_scope("towerA"):
        ts.get_variable("v", [1])
    with ts.variable_scope("towerA"):
        with pytest.raises(ts.VariableExistsError, match=first_line(exists_msg("towerA/v"))):
            ts.get_variable("v", [1])


def test_get_variable_reuse_true_missing_name_raises(store):
    """§3.1 case 6: reuse=True in a scope where one/v was never created raises E2."""
    with ts.variable_scope("one", reuse=True):
        with pytest.raises(ts.VariableNotFoundError, match=first_line(missing_msg("one/v"))):
            ts.get_variable("v", [1])


# ------------------------------------------------------------------------------ case 7


def test_auto_reuse_scope_entered_twice_gets_or_creates_same_variable(store):
    """§3.1 case 7: AUTO_REUSE creates on the first entry and returns it on the second."""
    with ts.variable_scope("bar", reuse=ts.AUTO_REUSE):
        a = ts.get_variable("var", [])
    with ts.variable_scope("bar", reuse=ts.AUTO_REUSE):
        b = ts.get_variable("var", [])
    assert a is b
    assert list(store) == ["bar/var"]


def test_auto_reuse_scope_get_variable_twice_in_one_entry_returns_same_object(store):
    """§3.1 case 7 [X]: within one AUTO_REUSE scope, the second call returns the first."""
    with ts.variable_scope("bar", reuse=ts.AUTO_REUSE):
        a = ts.get_variable("var", [])
        b = ts.get_variable("var", [])
    assert a is b
    assert len(store) == 1


# ------------------------------------------------------------------------------ cases 8-10


def test_reuse_with_other_shape_raises_shape_mismatch(store):
    """§3.1 case 8: reuse of root/towerA/v [1] asked as [2] raises E3 with both shapes."""
    with ts.variable_scope("root"):
        with ts.variable_scope("towerA") as tower_a:
            ts.get_variable("v", [1])
        with ts.variable_scope(tower_a, reuse=True):
            with pytest.raises(ts.ShapeMismatchError, match=first_line(
                    "Trying to share variable root/towerA/v, but specified shape (2,) and "
                    "found shape (1,).")):
                ts.get_variable("v", [2])


def test_reuse_with_other_dtype_raises_dtype_mismatch(store):
    """§3.1 case 9: reuse of a float32 variable asked as int32 raises E4 (TF2 names, no _ref)."""
    with ts.variable_scope("root"):
        with ts.variable_scope("towerA") as tower_a:
            ts.get_variable("v", [1])
        with ts.variable_scope(tower_a, reuse=True):
            with pytest.raises(ts.DTypeMismatchError, match=first_line(
                    "Trying to share variable root/towerA/v, but specified dtype int32 and "
                    "found dtype float32.")):
                ts.get_variable("v", [1], dtype=torch.int32)


def test_reuse_without_dtype_checks_default_float32_against_int_variable(store):
    """§3.1 case 10: the default dtype (float32) takes part in the reuse check."""
    with ts.variable_scope("one"):
        ts.get_variable("v", [1], dtype=torch.int32)
    with ts.variable_scope("one", reuse=True):
        with pytest.raises(ts.DTypeMismatchError, match=first_line(
                "Trying to share variable one/v, but specified dtype float32 and found dtype "
                "int32.")):
            ts.get_variable("v", [1])


def test_reuse_with_same_explicit_int_dtype_returns_variable(store):
    """§3.1 case 10: with the matching dtype the int32 variable is shared."""
    with ts.variable_scope("one"):
        v = ts.get_variable("v", [1], dtype=torch.int32)
    with ts.variable_scope("one", reuse=True):
        assert ts.get_variable("v", [1], dtype=torch.int32) is v


def test_mismatch_errors_are_value_errors(store):
    """§3.1 cases 8-9: TF1 raised ValueError; ported `except ValueError` keeps working."""
    assert issubclass(ts.ShapeMismatchError, ValueError)
    assert issubclass(ts.DTypeMismatchError, ValueError)


# ------------------------------------------------------------------------------ cases 11-12


@pytest.mark.parametrize("requested", [[None, 4], [3, None], [None, None], None, (3, 4)])
def test_reuse_with_compatible_shape_returns_same_object(store, requested):
    """§3.1 case 11: a [3, 4] variable is reused with [None, 4], no shape, ... (compatible)."""
    with ts.variable_scope("s"):
        v = ts.get_variable("v", [3, 4])
    with ts.variable_scope("s", reuse=True):
        assert ts.get_variable("v", requested) is v


@pytest.mark.parametrize("created, requested, shown, found", [
    ([], [1], "(1,)", "()"),
    ([1], [], "()", "(1,)"),
    ([3, 4], [4, 3], "(4, 3)", "(3, 4)"),
    ([3, 4], [3], "(3,)", "(3, 4)"),
    ([3, 4], [None, 4, 1], "(None, 4, 1)", "(3, 4)"),
])
def test_reuse_with_incompatible_shape_raises(store, created, requested, shown, found):
    """§3.1 case 12: [] vs [1] (and other rank/size differences) are incompatible (E3)."""
    store.get_variable("v", created)
    with pytest.raises(ts.ShapeMismatchError, match=first_line(
            f"Trying to share variable v, but specified shape {shown} and found shape {found}.")):
        store.get_variable("v", requested, reuse=True)


def test_scalar_variable_reused_as_shape_one_raises(store):
    """§3.1 case 12: create [], reuse [1] → E3 `specified shape (1,) and found shape ()`."""
    ts.get_variable("v", [])
    ts.get_variable_scope().reuse_variables()
    with pytest.raises(ts.ShapeMismatchError, match=first_line(
            "Trying to share variable v, but specified shape (1,) and found shape ().")):
        ts.get_variable("v", [1])


# ------------------------------------------------------------------------------ case 13


def test_reuse_ignores_trainable_initializer_collections_and_regularizer(store):
    """§3.1 case 13: on reuse every other argument is silently ignored."""
    calls = []

    def regularizer(w):
        calls.append(w)
        return w.sum()

    with ts.variable_scope("s"):
        v = ts.get_variable("v", [2], trainable=False, initializer=ts.zeros_initializer())
    with ts.variable_scope("s", reuse=True):
        again = ts.get_variable("v", [2], trainable=True, initializer=ts.ones_initializer(),
                                collections=["x"], regularizer=regularizer)
    assert again is v
    assert v.requires_grad is False
    assert store.record_of(v).trainable is False
    assert ts.trainable_variables() == []
    assert names(store, ts.global_variables()) == ["s/v"]
    assert ts.get_collection("x") == []
    assert ts.get_regularization_losses() == []
    assert calls == []
    assert torch.equal(v.detach(), torch.zeros(2))


def test_auto_reuse_also_ignores_other_arguments_of_existing_variable(store):
    """§3.1 case 13 with AUTO_REUSE: the same checks, and the same silence on other args."""
    with ts.variable_scope("s", reuse=ts.AUTO_REUSE):
        v = ts.get_variable("v", [2], trainable=False)
        assert ts.get_variable("v", [2], trainable=True, collections=["x"],
                               regularizer=lambda w: w.sum()) is v
    assert ts.trainable_variables() == [] and ts.get_collection("x") == []
    assert ts.get_regularization_losses() == []


# ------------------------------------------------------------------------------ failed calls


def test_failed_store_get_variable_reuse_false_leaves_store_unchanged(store):
    """§3.1 case 2 + DESIGN §2.2: E1 at store level changes nothing."""
    store.get_variable("v", [1], regularizer=lambda w: w.sum())
    before = snapshot(store)
    with pytest.raises(ts.VariableExistsError):
        store.get_variable("v", [1], reuse=False, regularizer=lambda w: w.sum(),
                           collections=["x"])
    assert snapshot(store) == before
    assert store.get_collection("x") == []


def test_failed_reuse_of_missing_name_leaves_store_unchanged(store):
    """§3.1 case 6 + DESIGN §2.2: E2 creates nothing, not even a display-name reservation."""
    ts.get_variable("a", [1])
    before = snapshot(store)
    with ts.variable_scope("one", reuse=True):
        with pytest.raises(ts.VariableNotFoundError):
            ts.get_variable("v", [1], collections=["x"])
    assert snapshot(store) == before
    assert store.get_collection("x") == []
    with ts.variable_scope("one"):
        v = ts.get_variable("v", [1])
    assert store.name_of(v) == "one/v"


@pytest.mark.parametrize("shape, dtype, error", [
    ([2], torch.float32, ts.ShapeMismatchError),
    ([1], torch.int32, ts.DTypeMismatchError),
])
def test_failed_reuse_with_mismatch_leaves_store_unchanged(store, shape, dtype, error):
    """§3.1 cases 8-9 + DESIGN §2.2: E3/E4 change no variable, collection or loss."""
    with ts.variable_scope("s", regularizer=lambda w: w.sum()):
        v = ts.get_variable("v", [1])
    before = snapshot(store)
    with ts.variable_scope("s", reuse=True):
        with pytest.raises(error):
            ts.get_variable("v", shape, dtype=dtype)
    assert snapshot(store) == before
    assert store["s/v"] is v
