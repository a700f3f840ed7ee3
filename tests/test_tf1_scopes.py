"""TF1 conformance §3.2: scopes, names and reuse inheritance (cases 14-34).

Where TF1 observed a name scope with an op (``tf.constant(0., name=n).name``), these tests enter
``ts.name_scope(n)``: it returns ``"<scope>/"`` and shares TF's uniquification registry with the
op names TF would have produced, so ``s[:-1]`` is the op name without ``:0``.
"""

import threading

import pytest
import torch

import torchscope as ts
from tf1_helpers import first_line, op, exists_msg, missing_msg

ROOT_PATTERN = r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$"
NESTED_PATTERN = r"^[A-Za-z0-9_.\\/>-]*$"






# ------------------------------------------------------------------------------ case 14


def test_variable_scope_names_and_name_scopes(store):
    """§3.2 case 14 (VST testVarScope): scope names and the name scopes opened inside."""
    with ts.variable_scope("tower4") as tower:
        assert tower.name == "tower4"
        with ts.name_scope("scope") as sc:
            assert sc == "tower4/scope/"
    with ts.variable_scope("tower5"):
        with ts.variable_scope("bar") as bar:
            assert bar.name == "tower5/bar"
            with ts.name_scope("scope") as sc:
                assert sc == "tower5/bar/scope/"
    with ts.variable_scope("tower6"):
        with ts.variable_scope(tower, reuse=True) as tower_shared:
            assert tower_shared.name == "tower4"
            with ts.name_scope("scope") as sc:
                assert sc == "tower6/tower4/scope/"


# ------------------------------------------------------------------------------ case 15


def test_reentering_scope_opens_a_new_uniquified_name_scope(store):
    """§3.2 case 15 (VST testVarScopeNameScope): by object or string, tower → tower_1 → tower_2."""
    with ts.name_scope("testVarScopeNameScope1"):
        with ts.variable_scope("tower") as tower:
            with ts.name_scope("scope2") as sc2:
                assert sc2 == "testVarScopeNameScope1/tower/scope2/"
        with ts.variable_scope(tower):  # re-entering acts like another "tower"
            with ts.name_scope("scope2") as sc2:
                assert sc2 == "testVarScopeNameScope1/tower_1/scope2/"
        with ts.variable_scope("tower"):  # re-entering by string acts the same
            with ts.name_scope("scope2") as sc2:
                assert sc2 == "testVarScopeNameScope1/tower_2/scope2/"
    with ts.name_scope("testVarScopeNameScope2"):
        with ts.variable_scope("tower"):
            with ts.name_scope("scope2") as sc2:
                assert sc2 == "testVarScopeNameScope2/tower/scope2/"
        with ts.variable_scope(tower):
            with ts.name_scope("scope2") as sc2:
                assert sc2 == "testVarScopeNameScope2/tower_1/scope2/"
    root = ts.get_variable_scope()
    with ts.name_scope("testVarScopeNameScope3"):
        with ts.variable_scope(root):
            with ts.name_scope("scope2") as sc2:
                assert sc2 == "testVarScopeNameScope3/scope2/"


# ------------------------------------------------------------------------------ case 16


def test_original_name_scope_is_kept_on_reentry_and_can_be_reentered(store):
    """§3.2 case 16 (VST testVarScopeOriginalNameScope)."""
    with ts.name_scope("scope1"):
        with ts.variable_scope("tower") as tower:
            assert tower.original_name_scope == "scope1/tower/"
            with ts.name_scope("scope2") as sc2:
                assert sc2 == "scope1/tower/scope2/"
    with ts.name_scope("scope2"):
        with ts.variable_scope(tower) as tower1:
            assert tower1.original_name_scope == "scope1/tower/"
            with ts.name_scope("foo") as sc2:
                assert sc2 == "scope2/tower/foo/"
        with ts.name_scope(tower.original_name_scope):
            with ts.name_scope("bar") as sc3:
                assert sc3 == "scope1/tower/bar/"
    with ts.name_scope("scope2"):
        with ts.variable_scope(tower):
            with ts.name_scope(tower.original_name_scope):
                with ts.name_scope("bar") as sc3:
                    assert sc3 == "scope1/tower/bar_1/"


# ------------------------------------------------------------------------------ case 17


@pytest.mark.parametrize("captured, explicit, expected", [
    (True, None, True),
    (True, True, True),
    (True, False, True),      # "Inherited, cannot be undone."
    (False, None, False),
    (False, True, True),
    (False, False, False),
])
def test_reentry_by_object_reuse_is_explicit_or_captured(store, captured, explicit, expected):
    """§3.2 case 17 (VST testVarScopeObjectReuse): reuse = explicit or captured.reuse."""
    with ts.variable_scope("jump", reuse=captured) as vs:
        pass
    with ts.variable_scope(vs, reuse=explicit) as jump:
        assert jump.reuse is expected


# ------------------------------------------------------------------------------ case 18


def test_reentry_by_object_ignores_enclosing_reuse(store):
    """§3.2 case 18: object entry inside a reuse=True scope keeps the object's reuse=False."""
    with ts.variable_scope("a") as a:
        ts.get_variable("v", [1])
    with ts.variable_scope("outer", reuse=True):
        with ts.variable_scope(a) as a2:
            assert a2.reuse is False
            with pytest.raises(ts.VariableExistsError, match=first_line(exists_msg("a/v"))):
                ts.get_variable("v", [1])


# ------------------------------------------------------------------------------ case 19


def test_reuse_false_under_reusing_parent_cannot_switch_reuse_off(store):
    """§3.2 case 19: False means "inherit", so b and its child c both reuse."""
    with ts.variable_scope("a", reuse=True):
        with ts.variable_scope("b", reuse=False) as b:
            with ts.variable_scope("c") as c:
                assert b.reuse is True
                assert c.reuse is True


# ------------------------------------------------------------------------------ case 20


@pytest.mark.parametrize("parent, explicit, expected", [
    (ts.AUTO_REUSE, None, ts.AUTO_REUSE),
    (ts.AUTO_REUSE, False, ts.AUTO_REUSE),
    (ts.AUTO_REUSE, True, True),
    (True, ts.AUTO_REUSE, ts.AUTO_REUSE),
    (True, None, True),
    (None, ts.AUTO_REUSE, ts.AUTO_REUSE),
    (None, None, False),
])
def test_reuse_by_name_is_explicit_or_parent(store, parent, explicit, expected):
    """§3.2 case 20: entering by string, reuse = explicit or parent.reuse (AUTO_REUSE truthy)."""
    with ts.variable_scope("outer", reuse=parent):
        with ts.variable_scope("inner", reuse=explicit) as inner:
            assert inner.reuse is expected


def test_reuse_true_under_auto_reuse_parent_is_strict(store):
    """§3.2 case 20: under an AUTO_REUSE parent, reuse=True makes a missing name an error."""
    with ts.variable_scope("outer", reuse=ts.AUTO_REUSE):
        with ts.variable_scope("inner"):
            created = ts.get_variable("v", [1])    # AUTO_REUSE inherited: creates
        with ts.variable_scope("inner2", reuse=True):
            with pytest.raises(ts.VariableNotFoundError,
                               match=first_line(missing_msg("outer/inner2/v"))):
                ts.get_variable("v", [1])
    assert ts.get_default_store().name_of(created) == "outer/inner/v"


# ------------------------------------------------------------------------------ case 21


@pytest.mark.parametrize("captured", [True, False])
def test_reentry_by_object_with_auto_reuse_gives_auto_reuse(store, captured):
    """§3.2 case 21: vs(obj, reuse=AUTO_REUSE).reuse is AUTO_REUSE whatever obj's reuse."""
    with ts.variable_scope("a", reuse=captured) as obj:
        pass
    with ts.variable_scope(obj, reuse=ts.AUTO_REUSE) as again:
        assert again.reuse is ts.AUTO_REUSE


# ------------------------------------------------------------------------------ case 22


def test_reuse_variables_affects_the_scope_object_only(store):
    """§3.2 case 22: reuse_variables() shares from then on; a later entry by name does not."""
    with ts.variable_scope("foo") as s:
        v = ts.get_variable("v", [1])
        s.reuse_variables()
        v1 = ts.get_variable("v", [1])
        with ts.variable_scope("sub") as sub:
            assert sub.reuse is True
    with ts.variable_scope("foo") as again:
        assert again.reuse is False
    assert v is v1
    assert s.reuse is True


# ------------------------------------------------------------------------------ case 23


def test_reuse_variables_on_reentered_copy_leaves_original_alone(store):
    """§3.2 case 23: the copy made by object entry is separate from the captured object."""
    with ts.variable_scope("a") as a:
        pass
    with ts.variable_scope(a) as a2:
        a2.reuse_variables()
        assert a2.reuse is True
    assert a.reuse is False
    assert a2 is not a


# ------------------------------------------------------------------------------ case 24


def test_get_variable_scope_setters_apply_inside_the_scope_only(store):
    """§3.2 case 24 (VST testGetVariableScope): set_initializer, reuse_variables, then gone."""
    with ts.variable_scope("bar"):
        assert ts.get_variable_scope().initializer is None
        ts.get_variable_scope().set_initializer(ts.constant_initializer(0.3))
        v = ts.get_variable("v", [])
        assert v.item() == pytest.approx(0.3)
        ts.get_variable_scope().reuse_variables()
        with pytest.raises(ts.VariableNotFoundError, match=first_line(missing_msg("bar/w"))):
            ts.get_variable("w", [1])
    assert ts.get_variable_scope().initializer is None


# ------------------------------------------------------------------------------ case 25


def test_get_variable_scope_inside_with_is_the_entered_object(store):
    """§3.2 case 25: inside `with vs("a") as a`, get_variable_scope() is a."""
    with ts.variable_scope("a") as a:
        assert ts.get_variable_scope() is a
        with ts.variable_scope("b") as b:
            assert ts.get_variable_scope() is b
        assert ts.get_variable_scope() is a


# ------------------------------------------------------------------------------ case 26


def test_same_name_twice_gives_distinct_scope_objects(store):
    """§3.2 case 26: two `with vs("a")` give distinct objects, name scopes a/ and a_1/."""
    with ts.variable_scope("a") as first:
        pass
    with ts.variable_scope("a") as second:
        pass
    assert first is not second
    assert first.name == second.name == "a"
    assert (first.original_name_scope, second.original_name_scope) == ("a/", "a_1/")


# ------------------------------------------------------------------------------ case 27


def test_root_scope_defaults(store):
    """§3.2 case 27: root scope name "", reuse False, float32, no initializer, name scope ""."""
    root = ts.get_variable_scope()
    assert root.name == ""
    assert root.reuse is False
    assert root.dtype is torch.float32
    assert root.initializer is None
    assert root.original_name_scope == ""


# ------------------------------------------------------------------------------ case 28


def test_root_reuse_variables_persists_for_the_store(store):
    """§3.2 case 28: root reuse_variables() is permanent; later scopes inherit True."""
    ts.get_variable_scope().reuse_variables()
    with ts.variable_scope("x") as x:
        assert x.reuse is True
    assert ts.get_variable_scope().reuse is True
    with ts.ScopedParameterStore().as_default():     # another graph: its own root
        assert ts.get_variable_scope().reuse is False


# ------------------------------------------------------------------------------ case 29


def test_exiting_outer_scope_while_inner_open_raises_and_can_be_exited_later(store):
    """§3.2 case 29 (VST testVarScopeNestingError): RuntimeError E16; state stays usable."""
    with ts.variable_scope("aa"):
        scope = ts.variable_scope("bb")
        scope.__enter__()
        with ts.variable_scope("cc"):
            with pytest.raises(ts.ScopeNestingError,
                               match=first_line("Improper nesting of variable_scope.")):
                scope.__exit__(None, None, None)
            assert ts.get_variable_scope().name == "aa/bb/cc"
        assert ts.get_variable_scope().name == "aa/bb"
        scope.__exit__(None, None, None)
        assert ts.get_variable_scope().name == "aa"
    assert ts.get_variable_scope().name == ""
    assert ts.get_name_scope() == ""


def test_scope_nesting_error_is_a_runtime_error():
    """§3.2 case 29: TF1 raised RuntimeError."""
    assert issubclass(ts.ScopeNestingError, RuntimeError)


# ------------------------------------------------------------------------------ case 30


def test_invalid_root_scope_name_raises(store):
    """§3.2 case 30 (VST testTwoGraphs): vs("_") at the root raises E17."""
    with pytest.raises(ts.InvalidNameError, match=first_line(
            f"'_' is not a valid root scope name. A root scope name has to match the following "
            f"pattern: {ROOT_PATTERN}")):
        with ts.variable_scope("_"):
            pass
    assert ts.get_variable_scope().name == "" and ts.get_name_scope() == ""


def test_invalid_nested_scope_name_raises(store):
    """§3.2 case 30 / E18: below the root, a name with a space is rejected."""
    with ts.variable_scope("a"):
        with pytest.raises(ts.InvalidNameError, match=first_line(
                f"'b c' is not a valid scope name. A scope name has to match the following "
                f"pattern: {NESTED_PATTERN}")):
            with ts.variable_scope("b c"):
                pass
        assert ts.get_variable_scope().name == "a"


def test_underscore_name_is_valid_below_the_root(store):
    """§3.2 case 30 / §1.6: `_b` is fine nested (a/_b/w)."""
    with ts.variable_scope("a"):
        with ts.variable_scope("_b"):
            w = ts.get_variable("w", [1])
    assert store.name_of(w) == "a/_b/w"


# ------------------------------------------------------------------------------ case 31


@pytest.mark.parametrize("reuse", [1, "yes", 0])
def test_variable_scope_invalid_reuse_value_raises(store, reuse):
    """§3.2 case 31: reuse other than True/False/None/AUTO_REUSE raises E11 (identity check)."""
    with pytest.raises(ts.InvalidReuseError,
                       match=first_line("The reuse parameter must be True or False or None.")):
        ts.variable_scope("o", reuse=reuse)


@pytest.mark.parametrize("reuse", [True, ts.AUTO_REUSE])
def test_default_name_scope_with_truthy_reuse_raises(store, reuse):
    """§3.2 case 31: vs(None, default_name="d", reuse=True or AUTO_REUSE) raises E12."""
    with pytest.raises(ts.InvalidReuseError,
                       match=first_line("reuse=True cannot be used without a name_or_scope")):
        with ts.variable_scope(None, default_name="d", reuse=reuse):
            pass
    assert ts.get_variable_scope().name == ""


def test_variable_scope_without_name_or_default_raises_type_error(store):
    """§3.2 case 31: vs(None) raises TypeError E13."""
    with pytest.raises(ts.ScopeArgumentError,
                       match=first_line("If default_name is None then name_or_scope is required")):
        ts.variable_scope(None)
    assert issubclass(ts.ScopeArgumentError, TypeError)


def test_variable_scope_with_non_string_name_raises_type_error(store):
    """§3.2 case 31: vs(3) raises TypeError E14 on entry."""
    with pytest.raises(ts.ScopeArgumentError, match=first_line(
            "VariableScope: name_or_scope must be a string or VariableScope.")):
        with ts.variable_scope(3):
            pass
    assert ts.get_variable_scope().name == "" and ts.get_name_scope() == ""


def test_invalid_reuse_errors_are_value_errors():
    """§3.2 case 31: TF1 raised ValueError for E11/E12."""
    assert issubclass(ts.InvalidReuseError, ValueError)


# ------------------------------------------------------------------------------ case 32


def test_name_scope_does_not_affect_get_variable(store):
    """§3.2 case 32: get_variable ignores name scopes; ts.Variable and ops follow them."""
    with ts.name_scope("ns"):
        v = ts.get_variable("v", [1])
        w = ts.Variable(1.0, name="w")
        with ts.variable_scope("vs"):
            x = ts.get_variable("x", [1])
            assert op("d") == "ns/vs/d"
    assert store.name_of(v) == "v"
    assert store.name_of(w) == "ns/w"
    assert store.name_of(x) == "vs/x"


# ------------------------------------------------------------------------------ case 33


def test_get_variable_under_different_name_scopes_in_reentered_scope_is_shared(store):
    """§3.2 case 33: vs/w is the same object whatever name scope is open."""
    with ts.variable_scope("vs"):
        with ts.name_scope("ns"):
            w = ts.get_variable("w", [1])
    with ts.variable_scope("vs", reuse=True):
        with ts.name_scope("other"):
            w2 = ts.get_variable("w", [1])
    assert w is w2
    assert store.name_of(w) == "vs/w"


# ------------------------------------------------------------------------------ case 34


def test_slashes_in_scope_and_variable_names(store):
    """§3.2 case 34: vs("a/b")/gv("c/d") is vs("a")/vs("b", reuse=True)/gv("c/d")."""
    with ts.variable_scope("a/b"):
        v = ts.get_variable("c/d", [1])
    with ts.variable_scope("a"):
        with ts.variable_scope("b", reuse=True):
            v2 = ts.get_variable("c/d", [1])
    assert store.name_of(v) == "a/b/c/d"
    assert v is v2


# ------------------------------------------------------------------------------ failed calls


@pytest.mark.parametrize("make, error", [
    (lambda: ts.variable_scope("_"), ts.InvalidNameError),
    (lambda: ts.variable_scope(3), ts.ScopeArgumentError),
    (lambda: ts.variable_scope(None, default_name="d", reuse=True), ts.InvalidReuseError),
])
def test_failed_scope_entry_leaves_scopes_and_name_registry_unchanged(store, make, error):
    """§3.2 cases 30-31 + DESIGN §2.2: a scope that fails to open consumes no name scope."""
    ts.get_variable("a", [1])
    before = (len(store), list(store), ts.get_variable_scope(), ts.get_name_scope())
    with pytest.raises(error):
        with make():
            ts.get_variable("never", [1])
    assert (len(store), list(store), ts.get_variable_scope(), ts.get_name_scope()) == before
    with ts.variable_scope(None, default_name="d") as d:
        assert d.name == "d" and d.original_name_scope == "d/"


def test_failed_get_variable_with_invalid_name_leaves_store_unchanged(store):
    """§3.2 / §1.19: get_variable("v:0") raises E17 and creates nothing."""
    ts.get_variable("a", [1])
    before = (len(store), list(store), [store.name_of(v) for v in ts.global_variables()])
    with pytest.raises(ts.InvalidNameError, match=first_line(
            f"'v:0' is not a valid root scope name. A root scope name has to match the "
            f"following pattern: {ROOT_PATTERN}")):
        ts.get_variable("v:0", [1])
    assert (len(store), list(store), [store.name_of(v) for v in ts.global_variables()]) == before


def test_scope_state_is_per_thread_while_variables_are_shared(store):
    """§3.2 background (scopes are thread-local, §1.1): a thread starts at the root."""
    seen = []

    def worker():
        with store.as_default():
            seen.append(ts.get_variable_scope().name)
            with ts.variable_scope("t"):
                seen.append(ts.get_variable("v", [1]))

    with ts.variable_scope("main"):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen[0] == ""
    assert store.name_of(seen[1]) == "t/v"
