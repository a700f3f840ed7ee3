"""TF1 conformance §3.6: initializers, dtypes and initial values (cases 65-75).

Restated for torchscope: dtypes are torch dtypes (TF1's ``tf.string`` has no torch counterpart
and raises ``ts.InvalidDTypeError``; ``"float32_ref"`` names float32); constants may be tensors,
numpy arrays, Python numbers or lists, converted with TF's rules (int → int32, float → float32).
"""


import numpy as np
import pytest
import torch

import torchscope as ts
from tf1_helpers import first_line

GK = ts.GraphKeys

NOT_VALID = ("The initializer passed is not valid. It should be a callable with no arguments and "
             "the shape should not be provided or an instance of `ts.initializers.*' and "
             "`shape` should be fully defined.")



def dtype_mismatch_msg(found, wanted):
    return f"Initializer type '<dtype: '{found}'>' and explicit dtype '<dtype: '{wanted}'>' don't match."


def snapshot(store):
    keys = (GK.GLOBAL_VARIABLES, GK.TRAINABLE_VARIABLES, GK.LOCAL_VARIABLES)
    return (len(store), list(store),
            {key: [store.name_of(v) for v in store.get_collection(key)] for key in keys},
            len(store.regularization_losses()), ts.get_variable_scope(), ts.get_name_scope())


# ------------------------------------------------------------------------------ case 65


def test_initialize_from_constant_tensor(store):
    """§3.6 case 65 (VST testInitializeFromValue): a constant gives value, shape and dtype."""
    init = torch.tensor(0.1)
    w = ts.get_variable("v", initializer=init)
    assert w.item() == pytest.approx(0.1)
    assert w.shape == () and w.dtype is torch.float32
    assert w is not init and w.data_ptr() != init.data_ptr()


def test_constant_initializer_with_shape_raises(store):
    """§3.6 case 65: a constant initializer and an explicit shape → E5 (mentions "shape")."""
    with pytest.raises(ts.InitializerError,
                       match=first_line("If initializer is a constant, do not specify shape.")):
        ts.get_variable("u", [1], initializer=torch.tensor(0.1))


def test_constant_initializer_passes_through_scopes(store):
    """§3.6 case 65: a constant set on the scope initializes foo/v (no shape given)."""
    with ts.variable_scope("foo", initializer=torch.tensor(0.1)):
        v = ts.get_variable("v")
        with pytest.raises(ts.InitializerError,
                           match=first_line("If initializer is a constant, do not specify shape.")):
            ts.get_variable("w", [])
    assert v.item() == pytest.approx(0.1)
    assert store.name_of(v) == "foo/v"


def test_int_constant_initializer_creates_int_variable(store):
    """§3.6 case 65: a non-float32 constant creates a variable of its dtype."""
    t = ts.get_variable("t", initializer=torch.tensor(1, dtype=torch.int32))
    assert t.dtype is torch.int32
    assert t.item() == 1


def test_constant_initializer_dtype_differing_from_explicit_dtype_raises(store):
    """§3.6 case 65: int32 constant with dtype=float64 → E6 "don't match"."""
    init = torch.tensor(1, dtype=torch.int32)
    with pytest.raises(ts.InitializerError,
                       match=first_line(dtype_mismatch_msg("int32", "float64"))):
        ts.get_variable("s", initializer=init, dtype=torch.float64)


# ------------------------------------------------------------------------------ case 66


def test_initialize_from_python_int_with_dtype(store):
    """§3.6 case 66 (VST testInitFromNonTensorValue): initializer=4, dtype=int32 → 4."""
    v = ts.get_variable("v4", initializer=4, dtype=torch.int32)
    assert v.dtype is torch.int32 and v.item() == 4


def test_initialize_from_numpy_array_with_dtype(store):
    """§3.6 case 66: np.array([1, 2, 3]) with dtype=int64 → [1, 2, 3]."""
    w = ts.get_variable("w4", initializer=np.array([1, 2, 3]), dtype=torch.int64)
    assert w.dtype is torch.int64 and w.tolist() == [1, 2, 3]


def test_initialize_from_unconvertible_value_raises_type_error(store):
    """§3.6 case 66: initializer={} → TypeError (graph mode; TF's E21 without its URL)."""
    with pytest.raises(ts.InitializerTypeError, match=first_line(
            "Failed to convert elements of {} to Tensor. Consider casting elements to a "
            "supported type.")):
        ts.get_variable("x4", initializer={})
    assert issubclass(ts.InitializerTypeError, TypeError)


# ------------------------------------------------------------------------------ case 67


@pytest.mark.parametrize("dtype", [torch.int8, torch.uint8, torch.int16, torch.uint16,
                                   torch.int32, torch.int64, torch.bool])
def test_default_initializer_for_int_and_bool_is_zeros(store, dtype):
    """§3.6 case 67 (VST testInitFromNonInitializer): equals an explicit zeros initializer."""
    x = ts.get_variable("xx", (3, 4), dtype=dtype)
    y = ts.get_variable("yy", (3, 4), dtype=dtype, initializer=ts.zeros_initializer(dtype=dtype))
    assert x.dtype is dtype and y.dtype is dtype
    assert torch.equal(x.detach().to(torch.int64), y.detach().to(torch.int64))
    assert not x.detach().to(torch.int64).any()


@pytest.mark.parametrize("dtype", [torch.int32, torch.bool])
def test_int_and_bool_variables_are_trainable_but_need_no_grad(store, dtype):
    """§3.6 case 67, torchscope's difference: trainable, but autograd needs a float dtype."""
    x = ts.get_variable("x", [2], dtype=dtype)
    assert store.record_of(x).trainable is True
    assert ts.trainable_variables() == [x]
    assert x.requires_grad is False


def test_default_initializer_for_float_is_glorot_uniform(store):
    """§3.6 case 67 / §1.10: floats default to glorot_uniform, limit sqrt(6/(20+30))."""
    w = ts.get_variable("w", [20, 30])
    limit = (6.0 / 50.0) ** 0.5
    assert w.abs().max().item() <= limit
    assert w.abs().max().item() > 0.5 * limit
    assert w.std().item() > 0.0


# ------------------------------------------------------------------------------ case 68


@pytest.mark.parametrize("dtype", ["string", "str"])
def test_string_dtype_raises_invalid_dtype(store, dtype):
    """§3.6 case 68 (VST testStringDefaultInitializer): no string tensors in torch."""
    with pytest.raises(ts.InvalidDTypeError, match=first_line(
            f"Cannot convert {dtype!r} to a torch dtype.")) as info:
        ts.get_variable("string", shape=[], dtype=dtype)
    assert "torch has no string tensors; keep strings outside the store." in str(info.value)
    assert issubclass(ts.InvalidDTypeError, TypeError)
    assert len(store) == 0


# ------------------------------------------------------------------------------ case 69


@pytest.mark.parametrize("dtype, shown", [(torch.complex64, "complex64"),
                                          (torch.complex128, "complex128")])
def test_complex_variable_without_initializer_raises(store, dtype, shown):
    """§3.6 case 69: no default initializer for complex dtypes → E9."""
    with pytest.raises(ts.InitializerError, match=first_line(
            f"An initializer for variable c of <dtype: '{shown}'> is required")):
        ts.get_variable("c", [2], dtype=dtype)


def test_complex_variable_with_initializer_is_created(store):
    """§3.6 case 69: with an initializer, a complex variable is fine."""
    c = ts.get_variable("c", [2], dtype=torch.complex64, initializer=ts.zeros_initializer())
    assert c.dtype is torch.complex64 and c.shape == (2,)


# ------------------------------------------------------------------------------ case 70


@pytest.mark.parametrize("initializer", [lambda: [2], lambda x=True: [2]],
                         ids=["no_args", "optional_args"])
def test_initializer_callable_without_required_args_and_no_shape(store, initializer):
    """§3.6 case 70: `lambda: [2]` and `lambda x=True: [2]` are called bare → variable foo."""
    v = ts.get_variable("foo", initializer=initializer)
    assert store.name_of(v) == "foo"
    assert v.tolist() == [2] and v.dtype is torch.int32


def test_initializer_callable_with_required_args_and_no_shape_raises(store):
    """§3.6 case 70: `lambda x: [2]` without a shape → E8, TF's exact sentence."""
    with pytest.raises(ts.InitializerError, match=first_line(NOT_VALID)):
        ts.get_variable("foo", initializer=lambda x: [2])


def test_default_initializer_with_partial_shape_raises(store):
    """§3.6 case 70 / §1.10: the default glorot initializer with shape [None, 3] → E8."""
    with pytest.raises(ts.InitializerError, match=first_line(NOT_VALID)):
        ts.get_variable("v", [None, 3])


# ------------------------------------------------------------------------------ case 71


def test_no_shape_and_no_initializer_raises(store):
    """§3.6 case 71: gv("v") → E7 (TF 2.21 wording)."""
    with pytest.raises(ts.InitializerError, match=first_line(
            "Variable v did not get an initializer, so its `shape` argument must be "
            "specified.")):
        ts.get_variable("v")


def test_no_shape_and_no_initializer_names_the_full_variable(store):
    """§3.6 case 71: the message names the full scoped name."""
    with ts.variable_scope("s"):
        with pytest.raises(ts.InitializerError, match=first_line(
                "Variable s/v did not get an initializer, so its `shape` argument must be "
                "specified.")):
            ts.get_variable("v")


# ------------------------------------------------------------------------------ case 72


@pytest.mark.parametrize("value, dtype, shape", [
    (4, torch.int32, ()),
    (np.array([1, 2, 3]), torch.int64, (3,)),
    ([1.0, 2.0], torch.float32, (2,)),
    (np.array([1.0, 2.0]), torch.float64, (2,)),
    (2.5, torch.float32, ()),
    (True, torch.bool, ()),
    ([[1, 2], [3, 4]], torch.int32, (2, 2)),
])
def test_python_and_numpy_values_follow_tf_conversion_rules(store, value, dtype, shape):
    """§3.6 case 72: int → int32, float → float32, numpy keeps its dtype."""
    v = ts.get_variable("v", initializer=value)
    assert v.dtype is dtype
    assert tuple(v.shape) == shape


@pytest.mark.parametrize("value, dtype, found, wanted", [
    (1.0, torch.float64, "float32", "float64"),
    (4, torch.int64, "int32", "int64"),
    (np.array([1.0]), torch.float32, "float64", "float32"),
])
def test_value_initializer_with_other_explicit_dtype_raises(store, value, dtype, found, wanted):
    """§3.6 case 72: the explicit dtype must equal the value's converted dtype exactly (E6)."""
    with pytest.raises(ts.InitializerError, match=first_line(dtype_mismatch_msg(found, wanted))):
        ts.get_variable("v", initializer=value, dtype=dtype)


def test_float32_constant_in_float16_scope_stays_float32(store):
    """§3.6 case 72: the scope dtype does not convert a constant's dtype."""
    with ts.variable_scope("h", dtype=torch.float16):
        v = ts.get_variable("v", initializer=torch.tensor([1.0]))
    assert v.dtype is torch.float32


# ------------------------------------------------------------------------------ case 73


def test_initializer_receives_shape_list_dtype_and_no_partition_info(store):
    """§3.6 case 73: called as initializer([2, 3], dtype=float32, partition_info=None)."""
    calls = []

    def init(shape, dtype=None, partition_info=None):
        calls.append((shape, dtype, partition_info))
        return torch.zeros(shape, dtype=dtype)

    ts.get_variable("v", [2, 3], initializer=init)
    assert calls == [([2, 3], torch.float32, None)]
    assert type(calls[0][0]) is list


def test_initializer_receives_resolved_scope_dtype(store):
    """§3.6 case 73: the dtype passed is the resolved one (the scope's here)."""
    calls = []

    def init(shape, dtype=None):
        calls.append(dtype)
        return torch.zeros(shape, dtype=dtype)

    with ts.variable_scope("s", dtype=torch.float64):
        v = ts.get_variable("v", [2], initializer=init)
    assert calls == [torch.float64] and v.dtype is torch.float64


def test_initializer_receives_partition_info_per_shard(store):
    """§3.6 case 73: [5, 3] with fixed_size_partitioner(2): shards [3,3]@[0,0] and [2,3]@[3,0]."""
    calls = []

    def init(shape, dtype=None, partition_info=None):
        calls.append((shape, partition_info.full_shape, partition_info.var_offset))
        return torch.full(shape, float(len(calls)), dtype=dtype)

    v = ts.get_variable("v", [5, 3], initializer=init, partitioner=ts.fixed_size_partitioner(2))
    assert calls == [([3, 3], [5, 3], [0, 0]), ([2, 3], [5, 3], [3, 0])]
    assert v.shape == (5, 3)                                  # stored whole
    assert v[:3].eq(1.0).all() and v[3:].eq(2.0).all()       # each shard where it belongs


def test_initializer_without_partition_info_parameter_is_called_without_it(store):
    """§3.6 case 73: an initializer lacking `partition_info` never gets it, sharded or not."""
    calls = []

    def init(shape, dtype=None):
        calls.append(shape)
        return torch.ones(shape, dtype=dtype)

    ts.get_variable("a", [5, 3], initializer=init, partitioner=ts.fixed_size_partitioner(2))
    ts.get_variable("b", [2, 3], initializer=init)
    assert calls == [[3, 3], [2, 3], [2, 3]]


# ------------------------------------------------------------------------------ case 74


@pytest.mark.parametrize("cls, fill", [(ts.zeros_initializer, 0.0), (ts.ones_initializer, 1.0)])
def test_initializer_class_is_instantiated(store, cls, fill):
    """§3.6 case 74: initializer=zeros_initializer (the class, not an instance) works."""
    assert isinstance(cls, type)
    v = ts.get_variable("v", [2, 2], initializer=cls)
    assert torch.equal(v.detach(), torch.full((2, 2), fill))


# ------------------------------------------------------------------------------ case 75


def test_ref_dtype_name_is_accepted_as_its_base_dtype(store):
    """§3.6 case 75 (VST testGetVariableWithRefDtype): dtype "float32_ref" works."""
    ts.get_variable("v", shape=[3, 4], dtype=torch.float32)
    w = ts.get_variable("w", shape=[5, 6], dtype="float32_ref")
    assert w.dtype is torch.float32 and w.shape == (5, 6)


def test_ref_dtype_reuse_compares_base_dtypes(store):
    """§3.6 case 75 / §1.9: the reuse check ignores `_ref` in both directions."""
    w = ts.get_variable("w", [2], dtype="float32_ref")
    i = ts.get_variable("i", [2], dtype=torch.int32)
    ts.get_variable_scope().reuse_variables()
    assert ts.get_variable("w", [2], dtype=torch.float32) is w
    assert ts.get_variable("w", [2], dtype="float32_ref") is w
    assert ts.get_variable("i", [2], dtype="int32_ref") is i


# ------------------------------------------------------------------------------ failed calls


def _raising_regularizer(w):
    raise ZeroDivisionError("regularizer failed")


FAILURES = [
    (dict(shape=[1], initializer=torch.tensor(0.1)), ts.InitializerError),              # E5
    (dict(initializer=torch.tensor(1, dtype=torch.int32), dtype=torch.float64),
     ts.InitializerError),                                                               # E6
    (dict(), ts.InitializerError),                                                       # E7
    (dict(initializer=lambda x: [2]), ts.InitializerError),                              # E8
    (dict(shape=[2], dtype=torch.complex64), ts.InitializerError),                       # E9
    (dict(initializer={}), ts.InitializerTypeError),                                     # E21
    (dict(shape=[], dtype="string"), ts.InvalidDTypeError),
    (dict(shape=[2], initializer=lambda shape, dtype=None: torch.zeros(3)), ts.InitializerError),
    (dict(shape=[2], regularizer=_raising_regularizer), ZeroDivisionError),
]


@pytest.mark.parametrize("kwargs, error", FAILURES, ids=[
    "constant_with_shape", "init_dtype_mismatch", "no_shape_no_init", "init_not_valid",
    "complex_needs_init", "unconvertible_value", "string_dtype", "init_wrong_result_shape",
    "raising_regularizer"])
def test_failed_creation_leaves_store_unchanged(store, kwargs, error):
    """§3.6 cases 65-71 + DESIGN §2.2: a failed get_variable leaves store and scopes as they were.

    The raising regularizer runs after the Parameter exists (TF1 would keep the variable);
    torchscope's contract is that a call that raises changes nothing.
    """
    with ts.variable_scope("s", regularizer=lambda w: w.sum()) as scope:
        ts.get_variable("a", [1])
        before = snapshot(store)
        with pytest.raises(error):
            ts.get_variable("v", collections=[GK.GLOBAL_VARIABLES, "x"], **kwargs)
        assert snapshot(store) == before
        assert ts.get_variable_scope() is scope
        assert store.get_collection("x") == []
        v = ts.get_variable("v", [1])       # the name was not taken, nor its display name
    assert store.name_of(v) == "s/v"
    assert list(store) == ["s/a", "s/v"]
