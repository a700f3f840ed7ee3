"""TF1 conformance §3.4: ``auxiliary_name_scope`` (cases 49-55).

``auxiliary_name_scope=False`` opens no name scope: ops stay where they are, while variables
still get the full variable-scope prefix. Ops are observed with ``ts.name_scope(n)`` (``s[:-1]``
is the op name TF1 would print, without ``:0``).
"""


import pytest

import torchscope as ts
from tf1_helpers import first_line, op




def gv_name(name):
    return ts.get_default_store().name_of(ts.get_variable(name, []))


# ------------------------------------------------------------------------------ case 49


def test_aux_false_at_root_opens_no_name_scope(store):
    """§3.4 case 49 (VST testBasicWhenAuxiliaryNameScopeIsFalse), root part."""
    with ts.variable_scope("scope", auxiliary_name_scope=False) as scope:
        assert scope.original_name_scope == ""
        assert gv_name("w") == "scope/w"
        assert op("c") == "c"
    with ts.variable_scope(scope, auxiliary_name_scope=False) as again:
        assert again.original_name_scope == ""
        assert gv_name("w1") == "scope/w1"
        assert op("c1") == "c1"
    with ts.name_scope("scope"):        # "scope" was never consumed as a name scope
        assert op("c") == "scope/c"


def test_aux_false_inside_outer_keeps_outer_name_scope(store):
    """§3.4 case 49, nested part: original_name_scope "outer/", ops in outer/."""
    with ts.variable_scope("outer"):
        with ts.variable_scope("inner", auxiliary_name_scope=False) as inner:
            assert inner.original_name_scope == "outer/"
            assert gv_name("w") == "outer/inner/w"
            assert op("c") == "outer/c"
        with ts.variable_scope(inner, auxiliary_name_scope=False) as inner1:
            assert inner1.original_name_scope == "outer/"
            assert gv_name("w1") == "outer/inner/w1"
            assert op("c1") == "outer/c1"
        with ts.name_scope("inner"):
            assert op("c") == "outer/inner/c"


def test_aux_false_is_not_inherited_by_sub_scopes(store):
    """§3.4 / §1.6: a sub-scope of an aux=False scope opens its own name scope again."""
    with ts.variable_scope("outer", auxiliary_name_scope=False):
        with ts.variable_scope("inner") as inner:
            assert inner.original_name_scope == "inner/"
            assert op("c") == "inner/c"
            assert gv_name("w") == "outer/inner/w"


# ------------------------------------------------------------------------------ case 50


def test_default_name_with_aux_false_at_root(store):
    """§3.4 case 50 (VST testCreatedByDefaultNameWhenAuxiliaryNameScopeIsFalse), root part."""
    with ts.variable_scope(None, default_name="default",
                           auxiliary_name_scope=False) as scope:
        assert scope.original_name_scope == ""
        assert gv_name("w") == "default/w"
        assert op("c") == "c"
    with ts.name_scope("default"):
        assert op("c") == "default/c"


def test_default_name_with_aux_false_inside_outer(store):
    """§3.4 case 50, nested part."""
    with ts.variable_scope("outer"):
        with ts.variable_scope(None, default_name="default",
                               auxiliary_name_scope=False) as inner:
            assert inner.original_name_scope == "outer/"
            assert gv_name("w") == "outer/default/w"
            assert op("c") == "outer/c"
        with ts.name_scope("default"):
            assert op("c") == "outer/default/c"


# ------------------------------------------------------------------------------ case 51


def test_reenter_root_scope_with_aux_false(store):
    """§3.4 case 51 (VST testReenterRootScopeWhenAuxiliaryNameScopeIsFalse)."""
    root = ts.get_variable_scope()
    with ts.variable_scope(root, auxiliary_name_scope=False) as scope:
        assert scope.original_name_scope == ""
        assert gv_name("w") == "w"
        assert op("c") == "c"
    with ts.variable_scope("outer"):
        with ts.variable_scope(root, auxiliary_name_scope=False) as inner:
            assert inner.original_name_scope == ""
            assert gv_name("w1") == "w1"
            assert op("c1") == "outer/c1"


# ------------------------------------------------------------------------------ case 52


def _with_default_name():
    return ts.variable_scope(None, default_name="scope", auxiliary_name_scope="invalid")


def _with_string():
    return ts.variable_scope("scope", auxiliary_name_scope="invalid")


def _with_object():
    with ts.variable_scope("scope") as scope:
        pass
    return ts.variable_scope(scope, auxiliary_name_scope="invalid")


@pytest.mark.parametrize("make", [_with_default_name, _with_string, _with_object],
                         ids=["default_name", "string", "object"])
def test_non_bool_auxiliary_name_scope_raises_type_error(store, make):
    """§3.4 case 52 (VST testAuxiliaryNameScopeIsInvalid): TypeError E15, each entry kind."""
    with pytest.raises(ts.ScopeArgumentError, match=first_line(
            "The auxiliary_name_scope must be `True` or `False`, while get invalid")):
        with make():
            pass
    assert issubclass(ts.ScopeArgumentError, TypeError)
    assert ts.get_variable_scope().name == "" and ts.get_name_scope() == ""


@pytest.mark.parametrize("value", [0, 1, None])
def test_auxiliary_name_scope_must_be_a_real_bool(store, value):
    """§3.4 case 52 / §1.5: the check is isinstance(bool), so 0, 1 and None are refused."""
    with pytest.raises(ts.ScopeArgumentError, match=first_line(
            f"The auxiliary_name_scope must be `True` or `False`, while get {value}")):
        ts.variable_scope("scope", auxiliary_name_scope=value)


# ------------------------------------------------------------------------------ case 53


def test_reuse_scope_without_name_scope_collision(store):
    """§3.4 case 53 (VST testReuseScopeWithoutNameScopeCollision, GitHub #13429)."""
    with ts.variable_scope("outer"):
        with ts.variable_scope("inner") as inner:
            pass
    with ts.variable_scope(inner, auxiliary_name_scope=False) as scope:
        with ts.name_scope(scope.original_name_scope):
            assert gv_name("w") == "outer/inner/w"
            assert op("c") == "outer/inner/c"
        with ts.name_scope("inner"):
            assert op("c") == "inner/c"
    with ts.variable_scope("another"):
        with ts.variable_scope(inner, auxiliary_name_scope=False) as scope1:
            with ts.name_scope(scope1.original_name_scope):
                assert gv_name("w1") == "outer/inner/w1"
                assert op("c1") == "outer/inner/c1"
            with ts.name_scope("inner"):
                assert op("c") == "another/inner/c"


# ------------------------------------------------------------------------------ case 54


def test_object_reentry_inside_another_scope(store):
    """§3.4 case 54: vs(a) inside vs("b"): scope a, var a/v, op b/a/c, nested a/inner."""
    with ts.variable_scope("a") as a:
        pass
    with ts.variable_scope("b"):
        with ts.variable_scope(a) as a2:
            assert a2.name == "a"
            assert gv_name("v") == "a/v"
            assert op("c") == "b/a/c"
            with ts.variable_scope("inner") as inner:
                assert inner.name == "a/inner"
                assert gv_name("w") == "a/inner/w"
                assert inner.original_name_scope == "b/a/inner/"


# ------------------------------------------------------------------------------ case 55


def test_root_object_reentry_opens_no_name_scope(store):
    """§3.4 case 55: vs(root) inside vs("outer"): name "", var v, op outer/c."""
    root = ts.get_variable_scope()
    with ts.variable_scope("outer"):
        with ts.variable_scope(root) as r:
            assert r.name == ""
            assert gv_name("v") == "v"
            assert op("c") == "outer/c"
