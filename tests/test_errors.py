"""Every error the core raises: triggered through the public API, message pinned, builtin base
checked, and nothing changed by the failed call.

Each message opens with TF1's sentence (``ts.`` for ``tf.``) and ends with a ``Fix:`` paragraph;
both are pinned. "Nothing changed" means: the store holds the same variables under the same
names, every collection and the regularization losses are as before, values are untouched, and
the current variable scope and name scope are the same objects / strings.
"""

import ast
import inspect
import os
import pickle
import re

import pytest
import torch

import torchscope as ts
from torchscope import _errors

GK = ts.GraphKeys
KEYS = (GK.GLOBAL_VARIABLES, GK.TRAINABLE_VARIABLES, GK.LOCAL_VARIABLES, GK.MODEL_VARIABLES,
        "mine")


def pinned(sentence, fix):
    """A regex: the message starts with ``sentence`` and has the paragraph ``Fix: fix...``."""
    return "^" + re.escape(sentence) + r"(?s:.*)\n\nFix: " + re.escape(fix)


def snapshot(store):
    return {
        "len": len(store),
        "names": list(store),
        "collections": {key: [id(v) for v in store.get_collection(key)] for key in KEYS},
        "losses": len(store.regularization_losses()),
        "values": {name: value.clone() for name, value in store.state_dict().items()},
        "scope": ts.get_variable_scope(),
        "name_scope": ts.get_name_scope(),
    }


def assert_unchanged(store, before):
    after = snapshot(store)
    assert after["scope"] is before["scope"]
    assert after["name_scope"] == before["name_scope"]
    for key in ("len", "names", "collections", "losses"):
        assert after[key] == before[key], key
    assert after["values"].keys() == before["values"].keys()
    for name, value in before["values"].items():
        assert torch.equal(after["values"][name], value), name


def check(store, error, builtins, sentence, fix, call):
    """Runs ``call``; it must raise ``error`` (a TorchscopeError and each of ``builtins``) with
    the pinned message, and change nothing."""
    before = snapshot(store)
    with pytest.raises(error, match=pinned(sentence, fix)) as info:
        call()
    assert isinstance(info.value, ts.TorchscopeError)
    for builtin in builtins:
        assert isinstance(info.value, builtin)
    assert_unchanged(store, before)
    return info.value


@pytest.fixture
def populated(store):
    """A store with a few variables of every kind, so "unchanged" has something to compare."""
    with ts.variable_scope("pre", regularizer=ts.regularizers.l2(1.0)):
        ts.get_variable("a", [2])
        ts.get_variable("b", [3], trainable=False, collections=["mine", GK.GLOBAL_VARIABLES])
        ts.get_local_variable("c", [1])
        ts.get_variable("m", [2], collections=[GK.MODEL_VARIABLES, GK.GLOBAL_VARIABLES])
    ts.get_variable("w", [3])
    ts.get_variable("i", [2], dtype=torch.int32)
    return store


# --------------------------------------------------------------------------- create / reuse

EXISTS_FIX = ("enter the scope with reuse=True to share the variable, or reuse=ts.AUTO_REUSE "
              "to get-or-create it; or give the second variable another name.")


def test_variable_exists_error_in_same_scope(populated):
    """§3.1 case 4: the same name twice in one scope → E1 with the full name."""
    with ts.variable_scope("one"):
        ts.get_variable("v", [1])
        check(populated, ts.VariableExistsError, [ValueError],
              "Variable one/v already exists, disallowed. Did you mean to set reuse=True or "
              "reuse=ts.AUTO_REUSE in VarScope?", EXISTS_FIX,
              lambda: ts.get_variable("v", [1]))


def test_variable_exists_error_on_reentry_by_name_without_reuse(populated):
    """§3.1 case 5: re-entering ``towerA`` by name does not reuse."""
    with ts.variable_scope("towerA"):
        ts.get_variable("v", [1])
    with ts.variable_scope("towerA"):
        check(populated, ts.VariableExistsError, [ValueError],
              "Variable towerA/v already exists, disallowed.", EXISTS_FIX,
              lambda: ts.get_variable("v", [1]))


def test_variable_exists_error_says_where_the_variable_was_first_created(store):
    """Like TF1's "Originally defined at": the file and line of the first creation."""
    with ts.variable_scope("tower"):
        line = inspect.currentframe().f_lineno + 1
        ts.get_variable("w", [3])
    with ts.variable_scope("tower"):
        with pytest.raises(ts.VariableExistsError) as info:
            ts.get_variable("w", [3])
    message = str(info.value)
    origin = message.split("Originally defined at:\n", 1)[1]
    assert f'File "{__file__}", line {line}, in ' in origin
    assert os.path.basename(__file__) == "test_errors.py"
    assert 'ts.get_variable("w", [3])' in origin
    assert "torchscope" + os.sep not in origin           # user frames only


def _origin_of_second_creation(store: ts.ScopedParameterStore) -> str:
    with store.as_default(), ts.variable_scope("tower"):
        with pytest.raises(ts.VariableExistsError) as info:
            ts.get_variable("w", [3])
    return str(info.value).split("Originally defined at:\n", 1)[1]


def test_origin_names_the_line_of_a_call_spread_over_lines_and_survives_pickling():
    """The origin is captured as code and bytecode offset and turned into a line only for the
    message; it must name the line Python's own traceback names, and a pickled store (as in
    ``torch.save`` of a module) must still say where the variable came from."""
    store = ts.ScopedParameterStore()
    with store.as_default(), ts.variable_scope("tower"):
        line = inspect.currentframe().f_lineno + 1     # the call's first line, as tracebacks
        ts.get_variable(
            "w",
            [3],
            initializer=ts.zeros_initializer())
    for copy in (store, pickle.loads(pickle.dumps(store))):
        origin = _origin_of_second_creation(copy)
        assert f'File "{__file__}", line {line}, in ' in origin
        assert "test_origin_names_the_line_of_a_call_spread_over_lines" in origin


def test_variable_exists_error_partitioned(populated):
    """§3.10 case 109 (P10)."""
    ts.get_variable("p", [4, 2], partitioner=ts.fixed_size_partitioner(2))
    check(populated, ts.VariableExistsError, [ValueError],
          "Partitioned variable with name p already exists. Did you mean to set reuse=True or "
          "reuse=ts.AUTO_REUSE in VarScope?", EXISTS_FIX,
          lambda: ts.get_variable("p", [4, 2], partitioner=ts.fixed_size_partitioner(2)))


NOT_FOUND_FIX = ("create the variable first in a scope without reuse, or use reuse=ts.AUTO_REUSE "
                 "to get-or-create; check the scope name for a typo.")


def test_variable_not_found_error_under_reuse_true(populated):
    """§3.1 case 6: ``reuse=True`` and a missing name → E2."""
    with ts.variable_scope("one", reuse=True):
        check(populated, ts.VariableNotFoundError, [ValueError],
              "Variable one/v does not exist, or was not created with ts.get_variable(). Did "
              "you mean to set reuse=ts.AUTO_REUSE in VarScope?", NOT_FOUND_FIX,
              lambda: ts.get_variable("v", [1]))


def test_variable_not_found_error_partitioned(populated):
    """§3.10 case 109 (P14)."""
    with ts.variable_scope("s", reuse=True):
        check(populated, ts.VariableNotFoundError, [ValueError],
              "PartitionedVariable s/p does not exist, or was not created with "
              "ts.get_variable(). Did you mean to set reuse=False or reuse=ts.AUTO_REUSE in "
              "VarScope?", NOT_FOUND_FIX,
              lambda: ts.get_variable("p", [4, 2], partitioner=ts.fixed_size_partitioner(2)))


SHAPE_FIX = ("pass the shape the variable was created with, or give the differently shaped "
             "variable its own name.")


def test_shape_mismatch_error_on_reuse(populated):
    """§3.1 case 8: exact TF text with both shapes."""
    with ts.variable_scope("root"):
        with ts.variable_scope("towerA") as tower_a:
            ts.get_variable("v", [1])
        with ts.variable_scope(tower_a, reuse=True):
            check(populated, ts.ShapeMismatchError, [ValueError],
                  "Trying to share variable root/towerA/v, but specified shape (2,) and found "
                  "shape (1,).", SHAPE_FIX, lambda: ts.get_variable("v", [2]))


def test_shape_mismatch_error_scalar_vs_one(populated):
    """§3.1 case 12: ``[]`` and ``[1]`` are incompatible."""
    with ts.variable_scope("s", reuse=ts.AUTO_REUSE):
        ts.get_variable("v", [])
        check(populated, ts.ShapeMismatchError, [ValueError],
              "Trying to share variable s/v, but specified shape (1,) and found shape ().",
              SHAPE_FIX, lambda: ts.get_variable("v", [1]))


def test_dtype_mismatch_error_on_reuse(populated):
    """§3.1 case 9: reuse with another dtype (TF2 names: ``float32``, no ``_ref``)."""
    with ts.variable_scope("s"):
        ts.get_variable("v", [1])
    with ts.variable_scope("s", reuse=True):
        check(populated, ts.DTypeMismatchError, [ValueError],
              "Trying to share variable s/v, but specified dtype int32 and found dtype float32.",
              "pass dtype=float32 when sharing this variable.",
              lambda: ts.get_variable("v", [1], dtype=torch.int32))


def test_dtype_mismatch_error_default_dtype_participates(populated):
    """§3.1 case 10: an int32 variable reused without dtype= is asked for as float32."""
    with ts.variable_scope("t"):
        ts.get_variable("v", [1], dtype=torch.int32)
    with ts.variable_scope("t", reuse=True):
        check(populated, ts.DTypeMismatchError, [ValueError],
              "Trying to share variable t/v, but specified dtype float32 and found dtype int32.",
              "pass dtype=int32 when sharing this variable.", lambda: ts.get_variable("v", [1]))


# --------------------------------------------------------------------------- initializers

def test_initializer_error_constant_with_shape(populated):
    """§3.6 case 65 (E5): a value initializer and a shape."""
    check(populated, ts.InitializerError, [ValueError],
          "If initializer is a constant, do not specify shape.",
          "drop the shape argument, or pass a callable initializer such as "
          "ts.constant_initializer(value).",
          lambda: ts.get_variable("u", [1], initializer=0.1))


def test_initializer_error_constant_with_shape_from_scope(populated):
    """§1.10: a constant set on the scope fails every get_variable with a shape."""
    with ts.variable_scope("foo", initializer=0.1):
        check(populated, ts.InitializerError, [ValueError],
              "If initializer is a constant, do not specify shape.", "drop the shape argument",
              lambda: ts.get_variable("u", [1]))


def test_initializer_error_dtype_mismatch(populated):
    """§3.6 case 65 (E6): the value's dtype and an explicit dtype differ. The fix shows
    runnable code (``dtype=torch.float64``, not the ``<dtype: 'float64'>`` of TF's sentence)."""
    check(populated, ts.InitializerError, [ValueError],
          "Initializer type '<dtype: 'int32'>' and explicit dtype '<dtype: 'float64'>' don't "
          "match.", "convert the value first (e.g. torch.as_tensor(value, dtype=torch.float64))",
          lambda: ts.get_variable("s", initializer=torch.tensor([1], dtype=torch.int32),
                                  dtype=torch.float64))


@pytest.mark.parametrize("value, dtype", [(1.0, torch.float64), (4, torch.int64)])
def test_initializer_error_python_value_dtype(populated, value, dtype):
    """§3.6 case 72: Python floats are float32 and ints int32, so another explicit dtype
    fails."""
    check(populated, ts.InitializerError, [ValueError], "Initializer type '<dtype: '",
          "convert the value first", lambda: ts.get_variable("x", initializer=value,
                                                             dtype=dtype))


def test_initializer_error_missing_shape(populated):
    """§3.6 case 71 (E7, TF 2.21 wording)."""
    check(populated, ts.InitializerError, [ValueError],
          "Variable v did not get an initializer, so its `shape` argument must be specified.",
          "pass shape=[...], or an initializer value whose shape is the variable's.",
          lambda: ts.get_variable("v"))


@pytest.mark.parametrize("initializer, shape", [(lambda x: [2], None), (None, [None, 3])])
def test_initializer_error_not_valid(populated, initializer, shape):
    """§3.6 case 70 (E8): a callable needing arguments without a fully defined shape."""
    check(populated, ts.InitializerError, [ValueError],
          "The initializer passed is not valid. It should be a callable with no arguments and "
          "the shape should not be provided or an instance of `ts.initializers.*' and `shape` "
          "should be fully defined.",
          "give every dimension a size, or pass a zero-argument callable that returns the "
          "value.", lambda: ts.get_variable("foo", shape, initializer=initializer))


def test_initializer_error_required_for_complex(populated):
    """§3.6 case 69 (E9)."""
    check(populated, ts.InitializerError, [ValueError],
          "An initializer for variable c of <dtype: 'complex64'> is required",
          "pass initializer=..., e.g. ts.zeros_initializer().",
          lambda: ts.get_variable("c", [2], dtype=torch.complex64))


def test_initializer_error_bad_result_shape(populated):
    check(populated, ts.InitializerError, [ValueError],
          "The initializer of variable x returned a tensor of shape (3,), but the variable has "
          "shape (2,).", "make the initializer honour its shape argument.",
          lambda: ts.get_variable("x", [2], initializer=lambda shape, dtype=None: torch.zeros(3)))


def test_initializer_error_bad_argument_inside_get_variable(populated):
    """An initializer's own argument error (TF1 ``constant_initializer`` padding rule)."""
    check(populated, ts.InitializerError, [ValueError],
          "Too many elements provided. Takes at most 6, but got 7.",
          "pass at most as many values as the variable holds.",
          lambda: ts.get_variable("k", [2, 3], initializer=ts.constant_initializer(list(range(7)))))


def test_initializer_error_bad_argument_at_construction(populated):
    check(populated, ts.InitializerError, [ValueError],
          "Argument `scale` must be a positive float. Received: -1.0", "pass scale > 0.",
          lambda: ts.variance_scaling_initializer(scale=-1.0))


def test_initializer_type_error_for_unconvertible_value(populated):
    """§3.6 case 66 (E21): ``initializer={}`` is a TypeError in graph mode."""
    check(populated, ts.InitializerTypeError, [TypeError],
          "Failed to convert elements of {} to Tensor. Consider casting elements to a "
          "supported type.", "pass a number, a (nested) list of numbers, a numpy array, a "
          "tensor, or a callable initializer.", lambda: ts.get_variable("x4", initializer={}))


# --------------------------------------------------------------------------- arguments

SHAPE_ARG_FIX = "pass e.g. [784, 256]; use None only for dimensions a reusing call leaves open."


@pytest.mark.parametrize("shape, problem", [
    ([3, -1], "dimension -1 must be >= 0"),
    ([2.5], "dimension 2.5 is not an integer"),
    ([3, "4"], "dimension '4' is not an integer"),
])
@pytest.mark.parametrize("builtin", [ValueError, TypeError])
def test_invalid_shape_error_catchable_as_value_and_type_error(populated, shape, problem,
                                                               builtin):
    with ts.variable_scope("s"):
        before = snapshot(populated)
        with pytest.raises(builtin, match=pinned(
                f"Invalid shape {shape!r} for variable s/w: {problem}.", SHAPE_ARG_FIX)) as info:
            ts.get_variable("w", shape)
        assert isinstance(info.value, ts.InvalidShapeError)
        assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
        assert_unchanged(populated, before)


@pytest.mark.parametrize("dtype", ["string", object])
def test_invalid_dtype_error(populated, dtype):
    """§3.6 case 68 counterpart: torch has no string tensors, so TF's string dtype is refused."""
    check(populated, ts.InvalidDTypeError, [TypeError], f"Cannot convert {dtype!r} to a torch "
          "dtype.", "pass e.g. torch.float32 (TF1's tf.float32).",
          lambda: ts.get_variable("s", [], dtype=dtype))


ROOT_FIX = ("use letters, digits and '.', '_', '-', '/', '>' only, starting with a letter, "
            "digit or '.'; names have no ':0' suffix in torchscope.")
ROOT_PATTERN = "^[A-Za-z0-9.][A-Za-z0-9_.\\\\/>-]*$"
NESTED_PATTERN = "^[A-Za-z0-9_.\\\\/>-]*$"


def _enter(scope):
    with scope:
        pass


@pytest.mark.parametrize("call, name", [
    (lambda: _enter(ts.variable_scope("_")), "_"),
    (lambda: ts.get_variable("v:0", [1]), "v:0"),
    (lambda: _enter(ts.name_scope("-x")), "-x"),
    (lambda: ts.Variable(torch.zeros(1), name="a b"), "a b"),
])
def test_invalid_name_error_root(populated, call, name):
    """§3.2 case 30 (E17): root names start with a letter, digit or '.'; ':' is never
    allowed."""
    check(populated, ts.InvalidNameError, [ValueError],
          f"'{name}' is not a valid root scope name. A root scope name has to match the "
          f"following pattern: {ROOT_PATTERN}", ROOT_FIX, call)


@pytest.mark.parametrize("call, name", [
    (lambda: _enter(ts.variable_scope("b c")), "b c"),
    (lambda: _enter(ts.name_scope("x:y")), "x:y"),
    (lambda: ts.Variable(torch.zeros(1), name="v:0"), "v:0"),
])
def test_invalid_name_error_nested(populated, call, name):
    """E18: inside a scope the first character may be '_', but the character set is the
    same."""
    with ts.variable_scope("a"):
        with ts.name_scope("n"):
            check(populated, ts.InvalidNameError, [ValueError],
                  f"'{name}' is not a valid scope name. A scope name has to match the following "
                  f"pattern: {NESTED_PATTERN}",
                  "use letters, digits and '.', '_', '-', '/', '>' only.", call)


def test_invalid_name_error_not_a_string(populated):
    check(populated, ts.InvalidNameError, [ValueError],
          "A variable name must be a string, got 3 of type int.",
          "pass the name as a str, e.g. ts.get_variable('w', [3]).",
          lambda: ts.get_variable(3, [1]))


@pytest.mark.parametrize("reuse", [1, "yes", 0])
def test_invalid_reuse_error_bad_value(populated, reuse):
    """§3.2 case 31 (E11): the check is by identity (``1 == True`` is refused)."""
    check(populated, ts.InvalidReuseError, [ValueError],
          "The reuse parameter must be True or False or None.",
          "pass reuse=True, reuse=False/None (inherit) or reuse=ts.AUTO_REUSE.",
          lambda: ts.variable_scope("o", reuse=reuse))


@pytest.mark.parametrize("reuse", [True, ts.AUTO_REUSE])
def test_invalid_reuse_error_without_name(populated, reuse):
    """§3.2 case 31 / §3.3 case 43 (E12): also for AUTO_REUSE, which is truthy."""
    check(populated, ts.InvalidReuseError, [ValueError],
          "reuse=True cannot be used without a name_or_scope",
          "pass the scope's name (or the VariableScope object) as name_or_scope.",
          lambda: _enter(ts.variable_scope(None, default_name="d", reuse=reuse)))


def test_scope_argument_error_no_name(populated):
    """§3.2 case 31 (E13)."""
    check(populated, ts.ScopeArgumentError, [TypeError],
          "If default_name is None then name_or_scope is required",
          "pass a name, a VariableScope, or default_name='...'.",
          lambda: ts.variable_scope(None))


@pytest.mark.parametrize("value", [3, b"bytes", ["a"]])
def test_scope_argument_error_bad_scope_type(populated, value):
    """§3.2 case 31 (E14): raised on entry."""
    check(populated, ts.ScopeArgumentError, [TypeError],
          "VariableScope: name_or_scope must be a string or VariableScope.",
          "pass a str such as 'tower', or the object a `with ts.variable_scope(...) as s:` "
          "gave you.", lambda: _enter(ts.variable_scope(value)))


@pytest.mark.parametrize("how", ["default_name", "string", "object"])
def test_scope_argument_error_bad_auxiliary_name_scope(populated, how):
    """§3.4 case 52 (E15): with a default_name, a string and an object."""
    with ts.variable_scope("premade") as premade:
        pass
    target = {"default_name": None, "string": "x", "object": premade}[how]
    check(populated, ts.ScopeArgumentError, [TypeError],
          "The auxiliary_name_scope must be `True` or `False`, while get invalid",
          "pass a bool.", lambda: ts.variable_scope(target, default_name="d",
                                                    auxiliary_name_scope="invalid"))


def test_scope_argument_error_name_scope_without_any_name(populated):
    check(populated, ts.ScopeArgumentError, [TypeError],
          "At least one of name (None) and default_name (None) must be provided.",
          "pass a name.", lambda: ts.name_scope(None, None, values=[1]))


def test_scope_argument_error_creator_not_callable(populated):
    check(populated, ts.ScopeArgumentError, [TypeError],
          "variable_creator must be callable, got 3.",
          "pass a function creator(next_creator, **kwargs).",
          lambda: ts.variable_creator_scope(3))


# --------------------------------------------------------------------------- nesting

def test_scope_nesting_error_variable_scope(populated):
    """§3.2 case 29 (E16): exiting ``bb`` while ``cc`` is open raises and changes nothing, so
    ``bb`` can still be exited properly afterwards (TF's testVarScopeNestingError)."""
    with ts.variable_scope("aa") as aa:
        bb = ts.variable_scope("bb")
        bb_scope = bb.__enter__()
        with ts.variable_scope("cc"):
            check(populated, ts.ScopeNestingError, [RuntimeError],
                  "Improper nesting of variable_scope.",
                  "use `with` blocks, or exit manually entered scopes innermost first.",
                  lambda: bb.__exit__(None, None, None))
            assert ts.get_name_scope() == "aa/bb/cc"
        assert ts.get_variable_scope() is bb_scope
        bb.__exit__(None, None, None)
        assert ts.get_variable_scope() is aa and ts.get_name_scope() == "aa"


def test_scope_nesting_error_as_default(populated):
    outer, inner = ts.ScopedParameterStore(), ts.ScopedParameterStore()
    outer_cm, inner_cm = outer.as_default(), inner.as_default()
    outer_cm.__enter__()
    inner_cm.__enter__()
    try:
        with pytest.raises(ts.ScopeNestingError, match=pinned(
                "Improper nesting of ScopedParameterStore.as_default().",
                "use `with` blocks so contexts exit innermost first.")) as info:
            outer_cm.__exit__(None, None, None)
        assert isinstance(info.value, RuntimeError)
        assert ts.get_default_store() is inner       # the stack was not touched
    finally:
        inner_cm.__exit__(None, None, None)
        outer_cm.__exit__(None, None, None)
    assert ts.get_default_store() is populated
    assert len(outer) == len(inner) == 0


# --------------------------------------------------------------------------- getters etc.

GETTER_FIX = "pass a function getter(getter, name, *args, **kwargs) that calls getter(...)."


def test_custom_getter_error_on_scope(populated):
    """§3.9 case 90: a non-callable scope getter fails at get_variable time."""
    with ts.variable_scope("scope0", custom_getter=3):
        check(populated, ts.CustomGetterError, [ValueError],
              "Passed a custom_getter which is not callable: 3", GETTER_FIX,
              lambda: ts.get_variable("name0", [1]))


def test_custom_getter_error_as_argument(populated):
    """§3.9 case 90."""
    check(populated, ts.CustomGetterError, [ValueError],
          "Passed a custom_getter which is not callable: 'getter'", GETTER_FIX,
          lambda: ts.get_variable("name0", [1], custom_getter="getter"))


def test_custom_getter_that_creates_then_raises_leaves_nothing(populated):
    """Transactional rollback: a getter that created one variable and then raised leaves no
    variable, no collection entry, no loss and no used-up name behind."""
    def getter(getter, name, *args, **kwargs):
        getter(name + "/part", *args, **kwargs)
        raise RuntimeError("getter failed after creating a variable")

    with ts.variable_scope("g", custom_getter=getter, regularizer=ts.regularizers.l1(1.0)):
        before = snapshot(populated)
        with pytest.raises(RuntimeError, match="getter failed after creating a variable"):
            ts.get_variable("v", [2])
        assert_unchanged(populated, before)
        assert "g/v/part" not in populated
    with ts.variable_scope("g"):
        part = ts.get_variable("v/part", [2])        # no "already exists": it is really gone
    assert populated.name_of(part) == "g/v/part"     # and its name was not used up


def test_variable_argument_error_synchronization(populated):
    check(populated, ts.VariableArgumentError, [ValueError],
          "Invalid variable synchronization mode: sometimes for variable: f",
          "pass a ts.VariableSynchronization member.",
          lambda: ts.get_variable("f", [2], synchronization="sometimes"))


def test_variable_argument_error_aggregation(populated):
    check(populated, ts.VariableArgumentError, [ValueError],
          "Invalid variable aggregation mode: often for variable: f",
          "pass a ts.VariableAggregation member.",
          lambda: ts.get_variable("f", [2], aggregation="often"))


def test_variable_argument_error_collections_not_a_list(populated):
    check(populated, ts.VariableArgumentError, [ValueError],
          "collections argument to Variable constructor must be a list, tuple, or set. Got "
          "'mine' of type str", "pass e.g. collections=[ts.GraphKeys.GLOBAL_VARIABLES].",
          lambda: ts.get_variable("f", [2], collections="mine"))


@pytest.mark.parametrize("where", ["argument", "scope"])
def test_variable_argument_error_job_only_caching_device(populated, where):
    """A TF device string naming only a job has no torch device."""
    def call():
        if where == "argument":
            return ts.get_variable("f", [2], caching_device="/job:moo")
        with ts.variable_scope("caching", caching_device="/job:moo"):
            return ts.get_variable("f", [2])

    check(populated, ts.VariableArgumentError, [ValueError],
          "Cannot place a variable copy on '/job:moo': it names no device type.",
          "pass a torch device such as 'cuda:0' or '/gpu:0' (or torch.device(...)).", call)


def test_variable_argument_error_variable_without_initial_value(populated):
    check(populated, ts.VariableArgumentError, [ValueError],
          "initial_value must be specified.", "pass the variable's initial value.",
          lambda: ts.Variable(None, name="v"))


PARTITION_FIX = "see ts.fixed_size_partitioner for a valid partitioner."


@pytest.mark.parametrize("partitioner, shape, sentence", [
    (3, [4, 4], "Partitioner must be callable, but received: 3"),
    (lambda shape, dtype: 2, [4, 4], "Partitioner must return a sequence, but saw: 2"),
    (lambda shape, dtype: [2], [4, 4], "Partitioner returned a partition list that does not "
     "match the Variable's rank: [2] vs. (4, 4)"),
    (lambda shape, dtype: [0, 1], [4, 4], "Partitioner returned zero partitions for some axes: "
     "[0, 1]"),
    (lambda shape, dtype: [2, 2], [4, 4], "Can only slice a variable along one dimension: "
     "shape: (4, 4), partitioning: [2, 2]"),
])
def test_partitioner_error_invalid_partitioning(populated, partitioner, shape, sentence):
    """§3.10 case 109: P1, P4, P5, P6, P7."""
    check(populated, ts.PartitionerError, [ValueError], sentence, PARTITION_FIX,
          lambda: ts.get_variable("p", shape, partitioner=partitioner))


def test_partitioner_error_shape_not_fully_defined(populated):
    """§3.10 case 109 (P2)."""
    check(populated, ts.PartitionerError, [ValueError],
          "Shape of a new partitioned variable must be fully defined, but instead was "
          "(None, 4).", "give every dimension a size.",
          lambda: ts.get_variable("p", [None, 4], partitioner=ts.fixed_size_partitioner(2)))


def test_partitioner_error_unpartitioned_exists(populated):
    """§3.10 case 109 (P8)."""
    check(populated, ts.PartitionerError, [ValueError],
          "A partitioner was provided, but an unpartitioned version of the variable was found: "
          "w.  Perhaps a variable of the same name was already created without partitioning?",
          "drop the partitioner, or use another name.",
          lambda: ts.get_variable("w", [3], partitioner=ts.fixed_size_partitioner(2)))


def test_partitioner_error_partitioned_exists_under_auto_reuse(populated):
    """§3.10 case 104 (P9): AUTO_REUSE without a partitioner refuses the partitioned one."""
    with ts.variable_scope("s"):
        ts.get_variable("p", [4, 2], partitioner=ts.fixed_size_partitioner(2))
    with ts.variable_scope("s", reuse=ts.AUTO_REUSE):
        check(populated, ts.PartitionerError, [ValueError],
              "No partitioner was provided, but a partitioned version of the variable was "
              "found: s/p/part_0. Perhaps a variable of the same name was already created with "
              "partitioning?", "pass the same partitioner (or reuse=True) to share it.",
              lambda: ts.get_variable("p", [4, 2]))


def test_partitioner_error_partitions_changed(populated):
    """§3.10 case 102 (P13)."""
    with ts.variable_scope("s"):
        ts.get_variable("p", [6, 1], partitioner=ts.fixed_size_partitioner(2))
    with ts.variable_scope("s", reuse=True):
        check(populated, ts.PartitionerError, [ValueError],
              "Trying to reuse partitioned variable s/p, but specified partitions [3, 1] and "
              "found partitions [2, 1].", "pass the partitioner the variable was created with.",
              lambda: ts.get_variable("p", [6, 1], partitioner=ts.fixed_size_partitioner(3)))


def test_regularizer_error_negative_scale(populated):
    check(populated, ts.RegularizerError, [ValueError],
          "Setting a scale less than 0 on a regularizer: -0.1", "pass scale >= 0.",
          lambda: ts.regularizers.l2(-0.1))


# --------------------------------------------------------------------------- templates

def test_template_error_no_name(populated):
    """§3.12 case 119 (T1)."""
    check(populated, ts.TemplateError, [ValueError], "name cannot be None.",
          "pass make_template('name', func).", lambda: ts.make_template(None, lambda: None))


def test_template_error_new_trainable_variable_after_first_call(populated):
    """§3.12 case 121 (T2 + T4): a trainable ts.Variable in a later call is refused; the
    message lists it and says where the template was defined (user frames only); the variable
    is not left in the store."""
    def body():
        ts.get_variable("dummy", [1])
        return ts.Variable(torch.zeros(1))

    line = inspect.currentframe().f_lineno + 1
    template = ts.make_template("t", body)
    template()
    error = check(
        populated, ts.TemplateError, [ValueError],
        "Trainable variable created when calling a template after the first time, perhaps you "
        "used ts.Variable when you meant ts.get_variable: [<ts.Variable 't_1/Variable'>]",
        "create variables with ts.get_variable inside the template.", template)
    trace = str(error).split("\n\noriginally defined at:\n", 1)[1]
    assert f'File "{__file__}", line {line}, in ' in trace
    assert "torchscope" + os.sep not in trace


# --------------------------------------------------------------------------- state dicts

def test_state_dict_error_strict_missing_and_unexpected_keys(populated):
    state = populated.state_dict()
    del state["w"]
    state["nope"] = torch.zeros(1)
    state["pre/a"] = torch.full((2,), 9.0)       # would be copied if loading were not atomic
    check(populated, ts.StateDictError, [RuntimeError],
          "Error(s) in loading state_dict for ScopedParameterStore: missing keys ['w'], "
          "unexpected keys ['nope'].", "pass strict=False to load a subset, or rename the keys "
          "to the store's TF names (list(store)).",
          lambda: populated.load_state_dict(state))


def test_state_dict_error_size_mismatch_copies_nothing(populated):
    state = {"pre/a": torch.full((2,), 9.0), "w": torch.zeros(5)}
    check(populated, ts.StateDictError, [RuntimeError],
          "Size mismatch for w: copying a value of shape (5,), the variable has shape (3,).",
          "load a state dict saved from the same model.",
          lambda: populated.load_state_dict(state, strict=False))


def test_state_dict_error_missing_name_lookup(populated):
    check(populated, ts.StateDictError, [RuntimeError],
          "No variable named 'pre/zz' in this store.",
          "names are full scoped names without ':0', e.g. 'tower/conv1/w'; list(store) shows "
          "them.", lambda: populated["pre/zz"])


@pytest.mark.parametrize("foreign", ["tensor", "other store"])
def test_state_dict_error_name_of_foreign_tensor(populated, foreign):
    if foreign == "tensor":
        tensor = torch.zeros(3)
    else:
        with ts.ScopedParameterStore().as_default():
            tensor = ts.get_variable("w", [3])
    check(populated, ts.StateDictError, [RuntimeError],
          "The tensor passed to name_of is not a variable of this store.",
          "pass a parameter returned by ts.get_variable / ts.Variable for this store.",
          lambda: populated.name_of(tensor))


# --------------------------------------------------------------------------- the module itself

def _error_classes():
    return [obj for _, obj in inspect.getmembers(_errors, inspect.isclass)
            if issubclass(obj, BaseException) and obj.__module__ == _errors.__name__]


def test_no_error_class_is_based_on_key_error():
    """KeyError's str() is the repr of its argument, which mangles multi-line messages."""
    classes = _error_classes()
    assert len(classes) >= 20
    assert [c.__name__ for c in classes if issubclass(c, KeyError)] == []


# The hierarchy as _errors.py documents it.
BUILTINS = {
    "VariableExistsError": (ValueError,), "VariableNotFoundError": (ValueError,),
    "ShapeMismatchError": (ValueError,), "DTypeMismatchError": (ValueError,),
    "InitializerError": (ValueError,), "InitializerTypeError": (TypeError,),
    "InvalidShapeError": (ValueError, TypeError), "InvalidDTypeError": (TypeError,),
    "InvalidNameError": (ValueError,), "InvalidReuseError": (ValueError,),
    "ScopeArgumentError": (TypeError,), "ScopeNestingError": (RuntimeError,),
    "CustomGetterError": (ValueError,), "VariableArgumentError": (ValueError,),
    "PartitionerError": (ValueError,), "RegularizerError": (ValueError,),
    "TemplateError": (ValueError,), "PassError": (ValueError,),
    "StateDictError": (RuntimeError,), "CheckpointNotFoundError": (FileNotFoundError,),
    "CheckpointFormatError": (ValueError,), "CheckpointChecksumError": (ValueError,),
    "UnsupportedCheckpointError": (ValueError,), "TensorNotFoundError": (ValueError,),
    "AssignmentMapError": (ValueError,), "LayerArgumentError": (ValueError,),
}


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_error_class_subclasses_torchscope_error_and_documented_builtin(name):
    cls = getattr(ts, name)
    assert cls is getattr(_errors, name)
    assert issubclass(cls, ts.TorchscopeError)
    for builtin in BUILTINS[name]:
        assert issubclass(cls, builtin)


def test_every_public_error_class_is_in_the_documented_hierarchy():
    public = {c.__name__ for c in _error_classes() if not c.__name__.startswith("_")}
    assert public - {"TorchscopeError"} == set(BUILTINS)
    assert set(_errors.__all__) == public


def _public_names_defined_in_init():
    """Names bound at the top level of torchscope/__init__.py (imports, assignments, defs),
    without private and dunder names."""
    tree = ast.parse(open(ts.__file__, encoding="utf-8").read())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                continue
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    return {name for name in names if not name.startswith("_")}


def test_dunder_all_matches_public_names_defined_in_init():
    declared = list(ts.__all__)
    assert len(declared) == len(set(declared)), "duplicates in __all__"
    defined = _public_names_defined_in_init()
    assert sorted(defined - set(declared)) == [], "public but missing from __all__"
    assert sorted(set(declared) - defined) == [], "in __all__ but not defined in __init__.py"


def test_every_name_in_dunder_all_is_importable():
    namespace = {}
    exec("from torchscope import *", namespace)      # noqa: S102 - the star import itself
    for name in ts.__all__:
        assert namespace[name] is getattr(ts, name)
