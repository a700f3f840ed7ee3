"""TF1 conformance §3.3: ``default_name`` ("var op scope") uniquification (cases 35-48).

``vs(name_or_scope, default_name, values)`` as in TF1. Variable names have no ``:0``. Where TF1
observed a name scope through an op or ``name_scope("scope2")``, these tests enter
``ts.name_scope``, which shares TF's uniquification registry with ops.
"""


import pytest

import torchscope as ts
from tf1_helpers import first_line, op




def ns(name):
    """The string ``tf.name_scope(name)`` returns here (``"<full>/"``)."""
    with ts.name_scope(name) as scope:
        return scope


def gv_name(name="w"):
    """``gv(name, []).name`` without ``:0``."""
    return ts.get_default_store().name_of(ts.get_variable(name, []))


# ------------------------------------------------------------------------------ case 35


def test_var_op_scope_names_and_name_scopes(store):
    """§3.3 case 35 (VST testVarOpScope)."""
    with ts.name_scope("testVarOpScope1"):
        with ts.variable_scope("tower", "default", []):
            assert gv_name() == "tower/w"
            assert ns("testVarOpScope2") == "testVarOpScope1/tower/testVarOpScope2/"
        with ts.variable_scope("tower", "default", []):
            with pytest.raises(ts.VariableExistsError, match=first_line(
                    "Variable tower/w already exists, disallowed. Did you mean to set "
                    "reuse=True or reuse=ts.AUTO_REUSE in VarScope?")):
                ts.get_variable("w", [])
            assert ns("testVarOpScope2") == "testVarOpScope1/tower_1/testVarOpScope2/"
    with ts.name_scope("testVarOpScope2"):
        with ts.variable_scope(None, "default", []):
            assert gv_name() == "default/w"
            assert ns("testVarOpScope2") == "testVarOpScope2/default/testVarOpScope2/"
        with ts.variable_scope(None, "default", []):
            assert gv_name() == "default_1/w"
            assert ns("testVarOpScope2") == "testVarOpScope2/default_1/testVarOpScope2/"


# ------------------------------------------------------------------------------ case 36


def test_default_names_with_interleaved_substring_scopes(store):
    """§3.3 case 36 (VST testVarOpScopeUniqueNamesInterleavedSubstringScopes)."""
    expected = ["defaultScope1/layer/w", "defaultScope1_1/layer/w", "defaultScope/layer/w",
                "defaultScope1_2/layer/w"]
    got = []
    for default in ["defaultScope1", "defaultScope1", "defaultScope", "defaultScope1"]:
        with ts.variable_scope(None, default):
            with ts.variable_scope(None, "layer"):
                got.append(gv_name())
    assert got == expected


# ------------------------------------------------------------------------------ case 37


def test_default_names_continue_after_jump_into_parent_object(store):
    """§3.3 case 37 (VST testVarOpScopeUniqueNamesWithJump): layer, layer_1, jump, layer_2."""
    with ts.variable_scope("default") as default:
        with ts.variable_scope(None, "layer"):
            assert gv_name() == "default/layer/w"
        with ts.variable_scope(None, "layer"):
            assert gv_name() == "default/layer_1/w"
        with ts.variable_scope(default):
            pass
        with ts.variable_scope(None, "layer"):
            assert gv_name() == "default/layer_2/w"


# ------------------------------------------------------------------------------ case 38


def test_default_name_counters_reset_when_parent_exits(store):
    """§3.3 case 38 (docstring): after `foo` exits, re-entering it gives foo/bar, not foo/bar_2."""
    with ts.variable_scope("foo") as foo:
        with ts.variable_scope(None, default_name="bar") as bar:
            assert bar.name == "foo/bar"
        with ts.variable_scope(None, default_name="bar") as bar:
            assert bar.name == "foo/bar_1"
    with ts.variable_scope(foo):
        with ts.variable_scope(None, default_name="bar") as bar:
            assert bar.name == "foo/bar"     # "Uses bar instead of bar_2!"
    with ts.variable_scope("foo"):
        with ts.variable_scope(None, default_name="bar") as bar:
            assert bar.name == "foo/bar"


# ------------------------------------------------------------------------------ case 39


def _default(name):
    with ts.variable_scope(None, default_name=name) as scope:
        return scope.name


def _explicit(name):
    with ts.variable_scope(name) as scope:
        return scope.name


def test_explicit_name_blocks_later_default_names(store):
    """§3.3 case 39: defaults dense, dense_1, dense_2; explicit dense_3; next default dense_4."""
    got = [_default("dense"), _default("dense"), _default("dense"), _explicit("dense_3"),
           _default("dense")]
    assert got == ["dense", "dense_1", "dense_2", "dense_3", "dense_4"]


def test_default_name_after_explicit_names_is_first_free_index(store):
    """§3.3 case 39: explicit dense → default dense_1; explicit dense_1 → default dense_2."""
    assert _explicit("dense") == "dense"
    assert _default("dense") == "dense_1"
    assert _explicit("dense_1") == "dense_1"
    assert _default("dense") == "dense_2"


# ------------------------------------------------------------------------------ case 40


def test_default_names_are_case_sensitive_but_name_scopes_are_not(store):
    """§3.3 case 40: scopes Dense and dense; their ops Dense/c and dense_1/c."""
    with ts.variable_scope(None, default_name="Dense") as upper:
        upper_op = op("c")
    with ts.variable_scope(None, default_name="dense") as lower:
        lower_op = op("c")
    assert (upper.name, lower.name) == ("Dense", "dense")
    assert (upper_op, lower_op) == ("Dense/c", "dense_1/c")


# ------------------------------------------------------------------------------ case 41


def _outer_first_block():
    """The first block of VST testVarOpScopeReuse / ReuseParam."""
    with ts.variable_scope("outer") as outer:
        with ts.variable_scope("tower", "default", []):
            tower_w = ts.get_variable("w", [])
            assert ts.get_default_store().name_of(tower_w) == "outer/tower/w"
            assert ns("scope2") == "outer/tower/scope2/"
        with ts.variable_scope(None, "default", []):
            default_w = ts.get_variable("w", [])
            assert ts.get_default_store().name_of(default_w) == "outer/default/w"
            assert ns("scope2") == "outer/default/scope2/"
    return outer, tower_w, default_w


def test_var_op_scope_reuse_through_outer_object(store):
    """§3.3 case 41 (VST testVarOpScopeReuse): the same two variables, ops under outer_1."""
    outer, tower_w, default_w = _outer_first_block()
    with ts.variable_scope(outer, reuse=True):
        with ts.variable_scope("tower", "default", []):
            assert ts.get_variable("w", []) is tower_w
            assert ns("scope2") == "outer_1/tower/scope2/"
        with ts.variable_scope(None, "default", []):
            assert ts.get_variable("w", []) is default_w
            assert ns("scope2") == "outer_1/default/scope2/"


# ------------------------------------------------------------------------------ case 42


def test_var_op_scope_reuse_param_and_reuse_variables(store):
    """§3.3 case 42 (VST testVarOpScopeReuseParam)."""
    outer, tower_w, default_w = _outer_first_block()
    with ts.variable_scope(outer) as outer:
        with ts.variable_scope("tower", "default", reuse=True):
            assert ts.get_variable("w", []) is tower_w
            assert ns("scope2") == "outer_1/tower/scope2/"
        outer.reuse_variables()
        with ts.variable_scope(None, "default", []):
            assert ts.get_variable("w", []) is default_w
            assert ns("scope2") == "outer_1/default/scope2/"


# ------------------------------------------------------------------------------ case 43


def test_var_op_scope_reuse_without_name_raises(store):
    """§3.3 case 43 (VST testVarOpScopeReuseError): vs(None, "default", reuse=True) → E12."""
    with pytest.raises(ts.InvalidReuseError,
                       match=first_line("reuse=True cannot be used without a name_or_scope")):
        with ts.variable_scope(None, "default", reuse=True):
            ts.get_variable("w", [])
    assert len(store) == 0


# ------------------------------------------------------------------------------ case 44


def test_var_scope_outer_scope_reentered_at_root(store):
    """§3.3 case 44 (VST testVarScopeOuterScope)."""
    with ts.variable_scope("outer") as outer:
        pass
    with ts.variable_scope(outer):
        w = ts.get_variable("w", [])
        assert store.name_of(w) == "outer/w"
        assert ns("scope2") == "outer_1/scope2/"
        with ts.variable_scope("default"):
            dw = ts.get_variable("w", [])
            assert store.name_of(dw) == "outer/default/w"
            assert ns("scope2") == "outer_1/default/scope2/"
    with ts.variable_scope(outer, reuse=True):
        assert ts.get_variable("w", []) is w
        assert ns("scope2") == "outer_2/scope2/"
        with ts.variable_scope("default", reuse=True):
            assert ts.get_variable("w", []) is dw
            assert ns("scope2") == "outer_2/default/scope2/"


# ------------------------------------------------------------------------------ case 45


def test_var_scope_nested_outer_scope(store):
    """§3.3 case 45 (VST testVarScopeNestedOuterScope)."""
    with ts.variable_scope("outer") as outer:
        with ts.variable_scope(outer):
            w = ts.get_variable("w", [])
            assert store.name_of(w) == "outer/w"
            assert ns("scope2") == "outer/outer/scope2/"
        with ts.variable_scope("default"):
            dw = ts.get_variable("w", [])
            assert store.name_of(dw) == "outer/default/w"
            assert ns("scope2") == "outer/default/scope2/"
        with ts.variable_scope(outer, reuse=True):
            assert ts.get_variable("w", []) is w
            assert ns("scope2") == "outer/outer_1/scope2/"
        with ts.variable_scope("default", reuse=True):
            assert ts.get_variable("w", []) is dw
            assert ns("scope2") == "outer/default_1/scope2/"


# ------------------------------------------------------------------------------ case 46


def test_var_op_scope_outer_scope(store):
    """§3.3 case 46 (VST testVarOpScopeOuterScope)."""
    with ts.variable_scope("outer") as outer:
        pass
    with ts.variable_scope(outer, "default", []):
        w = ts.get_variable("w", [])
        assert store.name_of(w) == "outer/w"
        assert ns("scope2") == "outer_1/scope2/"
        with ts.variable_scope(None, "default", []):
            dw = ts.get_variable("w", [])
            assert store.name_of(dw) == "outer/default/w"
            assert ns("scope2") == "outer_1/default/scope2/"
    with ts.variable_scope(outer, "default", reuse=True):
        assert ts.get_variable("w", []) is w
        assert ns("scope2") == "outer_2/scope2/"
        outer.reuse_variables()
        with ts.variable_scope(None, "default", []):
            assert ts.get_variable("w", []) is dw
            assert ns("scope2") == "outer_2/default/scope2/"


# ------------------------------------------------------------------------------ case 47


def test_var_op_scope_nested_outer_scope(store):
    """§3.3 case 47 (VST testVarOpScopeNestedOuterScope)."""
    with ts.variable_scope("outer") as outer:
        with ts.variable_scope(outer, "default", []):
            w = ts.get_variable("w", [])
            assert store.name_of(w) == "outer/w"
            assert ns("scope2") == "outer/outer/scope2/"
        with ts.variable_scope(None, "default", []):
            dw = ts.get_variable("w", [])
            assert store.name_of(dw) == "outer/default/w"
            assert ns("scope2") == "outer/default/scope2/"
    with ts.variable_scope(outer, "default", reuse=True):
        assert ts.get_variable("w", []) is w
        assert ns("scope2") == "outer_1/scope2/"
        with ts.variable_scope(None, "default", []):
            assert ts.get_variable("w", []) is dw
            assert ns("scope2") == "outer_1/default/scope2/"


# ------------------------------------------------------------------------------ case 48


def test_default_name_scope_and_name_scope_can_diverge(store):
    """§3.3 case 48: through the object, variable scope foo/bar but ops in foo_1/bar/."""
    with ts.variable_scope("foo") as foo:
        with ts.variable_scope(None, "bar") as bar:
            first = (bar.name, op("c"))
    with ts.variable_scope(foo):
        with ts.variable_scope(None, "bar") as bar:
            second = (bar.name, op("c"))
    assert first == ("foo/bar", "foo/bar/c")
    assert second == ("foo/bar", "foo_1/bar/c")


# ------------------------------------------------------------------------------ failed calls


def test_failed_default_name_entry_consumes_no_counter(store):
    """§3.3 case 43 + DESIGN §2.2: a refused anonymous scope leaves the counters alone."""
    with pytest.raises(ts.InvalidReuseError):
        with ts.variable_scope(None, "default", reuse=ts.AUTO_REUSE):
            pass
    with ts.variable_scope(None, "default") as scope:
        assert (scope.name, scope.original_name_scope) == ("default", "default/")
