"""TF1 conformance §3.10: partitioned variables (cases 101–109, errors P1–P14).

torchscope stores a partitioned variable whole: one Parameter of the full shape named like TF's
``PartitionedVariable`` (``scope0/name0``, no ``part_i`` entries). What TF does per shard is
still observable, so these tests check it: the initializer is called once per shard with the
shard's shape and a ``partition_info`` (full shape, offset), the shards are concatenated along the
partitioned axis, and ``constant_initializer`` pads each shard separately.

Errors not tested here: P3 (rank 0 reaching the partitioner) cannot be reached through
``get_variable`` — scalars bypass the partitioner (case 106) and an unknown shape fails with P2
first; P15–P17 concern shard variables and TF's private ``_get_partitioned_variable``, neither of
which exists in torchscope.
"""

import math

import numpy as np
import pytest
import torch

import torchscope as ts


def axis0_into1(shape=None, **unused_kwargs):
    return [1] * len(shape)


def axis0_into2(shape=None, **unused_kwargs):
    part = [1] * len(shape)
    part[0] = 2
    return part


def axis0_into3(shape=None, **unused_kwargs):
    part = [1] * len(shape)
    part[0] = 3
    return part


class RecordingInitializer:
    """Records ``(shape, full_shape, var_offset)`` per call and fills call ``i`` with ``i``."""

    def __init__(self):
        self.calls = []

    def __call__(self, shape, dtype=None, partition_info=None):
        info = (None if partition_info is None
                else (list(partition_info.full_shape), list(partition_info.var_offset)))
        self.calls.append((list(shape), info))
        return torch.full(list(shape), float(len(self.calls)), dtype=dtype)


# --------------------------------------------------------------------------- case 101

def test_partitioned_variable_is_stored_whole_under_the_requested_name(store):
    """§3.10 case 101: the result is named ``scope0/name0`` (TF's PartitionedVariable name),
    holds the full shape (3, 1, 1), and no ``part_i`` variable exists."""
    with ts.variable_scope("scope0", partitioner=axis0_into2):
        v = ts.get_variable("name0", (3, 1, 1))
    assert store.name_of(v) == "scope0/name0"
    assert tuple(v.shape) == (3, 1, 1)
    assert list(store) == ["scope0/name0"]
    assert len(ts.global_variables()) == 1 and ts.global_variables()[0] is v
    assert len(ts.trainable_variables()) == 1 and ts.trainable_variables()[0] is v
    assert "scope0/name0/part_0" not in store


def test_partitioned_variable_initializer_called_per_shard_with_partition_info(store):
    """§3.10 case 101: (3, 1, 1) into 2 initialises shards [2,1,1] at offset 0 and [1,1,1] at
    offset 2, with the full shape, and concatenates them along axis 0."""
    init = RecordingInitializer()
    with ts.variable_scope("scope0", partitioner=axis0_into2):
        v = ts.get_variable("name0", (3, 1, 1), initializer=init)
    assert init.calls == [([2, 1, 1], ([3, 1, 1], [0, 0, 0])),
                          ([1, 1, 1], ([3, 1, 1], [2, 0, 0]))]
    assert v.detach().reshape(-1).tolist() == [1.0, 1.0, 2.0]


def test_partitioner_called_with_full_shape_and_dtype(store):
    """§3.10 case 101: the partitioner is called as ``partitioner(shape=..., dtype=...)`` with
    the full shape and the resolved dtype."""
    calls = []

    def partitioner(shape, dtype):
        calls.append((tuple(shape), dtype))
        return axis0_into2(shape)

    ts.get_variable("w", (4, 3), dtype=torch.float64, partitioner=partitioner)
    assert calls == [((4, 3), torch.float64)]


# --------------------------------------------------------------------------- case 102

@pytest.mark.parametrize("partitioner, partitions", [(axis0_into3, r"\[3, 1, 1\]"),
                                                     (axis0_into1, r"\[1, 1, 1\]")],
                         ids=["into3", "into1"])
def test_reuse_with_different_partitioning_raises(store, partitioner, partitions):
    """§3.10 case 102 (P13): reusing with another partitioning fails."""
    with ts.variable_scope("scope0", partitioner=axis0_into2):
        ts.get_variable("name0", (3, 1, 1))
    with ts.variable_scope("scope0", partitioner=partitioner, reuse=True):
        with pytest.raises(ts.PartitionerError, match=(
                r"^Trying to reuse partitioned variable scope0/name0, but specified partitions "
                + partitions + r" and found partitions \[2, 1, 1\]\.")):
            ts.get_variable("name0", (3, 1, 1))


# --------------------------------------------------------------------------- cases 103, 104

def test_reuse_variables_returns_same_partitioned_variable(store):
    """§3.10 case 103: after ``reuse_variables()`` the same object comes back."""
    with ts.variable_scope("scope0", partitioner=axis0_into2):
        v = ts.get_variable("name0", (3, 1, 1))
        ts.get_variable_scope().reuse_variables()
        assert ts.get_variable("name0", (3, 1, 1)) is v


def test_reuse_true_without_partitioner_or_shape_returns_partitioned_variable(store):
    """§3.10 case 104: ``reuse=True`` without a partitioner (and without a shape) returns the
    partitioned variable."""
    with ts.variable_scope("scope0", partitioner=axis0_into2):
        v = ts.get_variable("name0", (3, 1, 1))
    with ts.variable_scope("scope0", reuse=True):
        assert ts.get_variable("name0") is v


@pytest.mark.parametrize("reuse", [None, ts.AUTO_REUSE], ids=["no_reuse", "auto_reuse"])
def test_non_strict_reuse_without_partitioner_raises(store, reuse):
    """§3.10 case 104 (P9): without a partitioner, only ``reuse=True`` finds a partitioned
    variable; ``AUTO_REUSE`` (a TF quirk) and no reuse raise."""
    with ts.variable_scope("scope0", partitioner=axis0_into2):
        ts.get_variable("name0", (3, 1, 1))
    with ts.variable_scope("scope0", reuse=reuse):
        with pytest.raises(ts.PartitionerError, match=(
                r"^No partitioner was provided, but a partitioned version of the variable was "
                r"found: scope0/name0/part_0\. Perhaps a variable of the same name was already "
                r"created with partitioning\?")):
            ts.get_variable("name0", (3, 1, 1))
    assert len(store) == 1


def test_reuse_true_with_partitioner_and_no_shape_raises(store):
    """§3.10 case 104 (P2, TF verified): with a partitioner, reuse still calls it, so an
    unknown shape fails even though the variable exists."""
    with ts.variable_scope("scope0", partitioner=axis0_into2):
        ts.get_variable("name0", (3, 1, 1))
    with ts.variable_scope("scope0", partitioner=axis0_into2, reuse=True):
        with pytest.raises(ts.PartitionerError, match=(
                r"^Shape of a new partitioned variable must be fully defined, but instead was "
                r"<unknown>\.")):
            ts.get_variable("name0")


# --------------------------------------------------------------------------- case 105

def test_partitioner_propagates_on_reopening_by_object_and_to_children(store):
    """§3.10 case 105: re-entering a scope by object keeps its partitioner, and variables made
    there are partitioned (per-shard initialisation)."""
    with ts.variable_scope("root", partitioner=axis0_into2) as vs:
        assert vs.partitioner is axis0_into2
        with ts.variable_scope(vs) as vs1:
            assert vs1.partitioner is axis0_into2
        with ts.variable_scope("child") as child:
            assert child.partitioner is axis0_into2
    init = RecordingInitializer()
    with ts.variable_scope(vs):
        ts.get_variable("w", (4, 2), initializer=init)
    assert [shape for shape, _ in init.calls] == [[2, 2], [2, 2]]


# --------------------------------------------------------------------------- case 106

def test_scalar_ignores_partitioner(store):
    """§3.10 case 106: ``shape=()`` makes a plain variable: the partitioner is not called, the
    initializer runs once without partition_info, and later reuse needs no partitioner."""
    calls = []

    def partitioner(shape, dtype):
        calls.append(shape)
        return axis0_into2(shape)

    init = RecordingInitializer()
    with ts.variable_scope("scope0", partitioner=partitioner):
        v = ts.get_variable("name0", shape=(), initializer=init)
    assert calls == []
    assert init.calls == [([], None)]
    assert store.name_of(v) == "scope0/name0" and tuple(v.shape) == ()
    with ts.variable_scope("scope0", reuse=ts.AUTO_REUSE):
        assert ts.get_variable("name0", shape=()) is v


def test_scalar_ignores_even_non_callable_partitioner(store):
    """§3.10 case 106 (TF verified): a scalar never reaches the partitioner, so even
    ``partitioner=3`` is not an error for it."""
    v = ts.get_variable("w", [], partitioner=3)
    assert store.name_of(v) == "w"


# --------------------------------------------------------------------------- case 107

@pytest.mark.parametrize("partitions, shard_shape, offsets, axis", [
    ((2, 1, 1), [1, 2, 2], [[0, 0, 0], [1, 0, 0]], 0),
    ((1, 2, 1), [2, 1, 2], [[0, 0, 0], [0, 1, 0]], 1),
], ids=["axis0", "axis1"])
def test_partitions_concatenate_along_the_partitioned_axis(store, partitions, shard_shape,
                                                           offsets, axis):
    """§3.10 case 107: partitioning (2,1,1) / (1,2,1) of (2,2,2) gives two shards of (1,2,2) /
    (2,1,2); the whole variable is (2,2,2) with shard i along the right axis."""
    init = RecordingInitializer()
    with ts.variable_scope("root"):
        v = ts.get_variable("n", shape=(2, 2, 2), partitioner=lambda **kwargs: partitions,
                            initializer=init)
    assert tuple(v.shape) == (2, 2, 2)
    assert init.calls == [(shard_shape, ([2, 2, 2], offset)) for offset in offsets]
    for i in range(2):
        assert torch.equal(v.detach().select(axis, i), torch.full((2, 2), float(i + 1)))


# --------------------------------------------------------------------------- case 108

def test_uneven_split_gives_first_shards_one_more_row(store):
    """§3.10 case 108: (7, 2) into 3 → shards [3,2], [2,2], [2,2] at offsets 0, 3, 5."""
    init = RecordingInitializer()
    v = ts.get_variable("w", (7, 2), partitioner=axis0_into3, initializer=init)
    assert init.calls == [([3, 2], ([7, 2], [0, 0])), ([2, 2], ([7, 2], [3, 0])),
                          ([2, 2], ([7, 2], [5, 0]))]
    assert tuple(v.shape) == (7, 2)


def test_fixed_size_partitioner_splits_ten_rows_four_three_three(store):
    """§3.10 case 108: ``fixed_size_partitioner(3)`` on (10, 2) → [4,2], [3,2], [3,2]."""
    init = RecordingInitializer()
    v = ts.get_variable("w", (10, 2), partitioner=ts.fixed_size_partitioner(3),
                        initializer=init)
    assert init.calls == [([4, 2], ([10, 2], [0, 0])), ([3, 2], ([10, 2], [4, 0])),
                          ([3, 2], ([10, 2], [7, 0]))]
    assert store.name_of(v) == "w" and tuple(v.shape) == (10, 2)


def test_constant_initializer_list_is_padded_per_shard(store):
    """§3.10 case 108 (TF verified): ``constant_initializer([1, 2, 3])`` on (7, 2) in 3 shards
    pads each shard on its own: every shard starts again at 1, 2."""
    v = ts.get_variable("w", [7, 2], partitioner=ts.fixed_size_partitioner(3),
                        initializer=ts.constant_initializer([1.0, 2.0, 3.0]))
    assert v.detach().tolist() == [[1.0, 2.0], [3.0, 3.0], [3.0, 3.0],
                                   [1.0, 2.0], [3.0, 3.0],
                                   [1.0, 2.0], [3.0, 3.0]]


def test_constant_initializer_list_too_long_for_a_shard_raises(store):
    """§3.10 case 108 (TF verified): 7 values fit the whole (10, 2) variable but not its
    second shard of 6 elements, so TF fails; nothing is created."""
    with pytest.raises(ValueError, match=r"Too many elements provided\. Takes at most 6, but "
                                         r"got 7\."):
        ts.get_variable("w", [10, 2], partitioner=ts.fixed_size_partitioner(3),
                        initializer=ts.constant_initializer([1.0, 2, 3, 4, 5, 6, 7]))
    assert len(store) == 0


@pytest.mark.parametrize("shape", [None, [7, 2]], ids=["shape_from_tensor", "shape_given"])
def test_tensor_initializer_is_sliced_per_shard(store, shape):
    """§3.10 case 108 (TF verified): a tensor initializer is sliced per shard, so the whole
    variable equals it; its shape may be given or left to the tensor."""
    value = torch.arange(14.0).reshape(7, 2)
    v = ts.get_variable("w", shape, partitioner=ts.fixed_size_partitioner(3),
                        initializer=value)
    assert torch.equal(v.detach(), value)


def test_array_initializer_without_shape_raises_unknown_shape(store):
    """§3.10 case 108 (TF verified): only a tensor gives a partitioned variable its shape; a
    numpy array without ``shape`` fails with P2."""
    with pytest.raises(ts.PartitionerError, match=r"fully defined, but instead was <unknown>\."):
        ts.get_variable("w", partitioner=ts.fixed_size_partitioner(3),
                        initializer=np.arange(14.0).reshape(7, 2))


def test_default_initializer_uses_full_shape_fans_for_shards(store):
    """§3.10 case 108 (with §1.16): glorot_uniform on a (1000, 10) variable in 4 shards uses
    the full shape's fans: limit sqrt(6/1010), not a shard's sqrt(6/260)."""
    torch.manual_seed(0)
    v = ts.get_variable("w", [1000, 10], partitioner=ts.fixed_size_partitioner(4))
    limit = math.sqrt(6 / 1010)
    largest = v.detach().abs().max().item()
    assert 0.95 * limit < largest <= limit


# --------------------------------------------------------------------------- case 109

def test_partitioned_exists_without_reuse_raises(store):
    """§3.10 case 109 (P10)."""
    with ts.variable_scope("scope0", partitioner=axis0_into2):
        ts.get_variable("name0", (4, 1, 1))
    with ts.variable_scope("scope0", partitioner=axis0_into2):
        with pytest.raises(ts.VariableExistsError, match=(
                r"^Partitioned variable with name scope0/name0 already exists\. Did you mean to "
                r"set reuse=True or reuse=ts\.AUTO_REUSE in VarScope\?")):
            ts.get_variable("name0", (4, 1, 1))


def test_partitioned_missing_with_reuse_true_raises(store):
    """§3.10 case 109 (P14)."""
    with ts.variable_scope("scope0", partitioner=axis0_into2, reuse=True):
        with pytest.raises(ts.VariableNotFoundError, match=(
                r"^PartitionedVariable scope0/name0 does not exist, or was not created with "
                r"ts\.get_variable\(\)\. Did you mean to set reuse=False or "
                r"reuse=ts\.AUTO_REUSE in VarScope\?")):
            ts.get_variable("name0", (4, 1, 1))
    assert len(store) == 0


@pytest.mark.parametrize("reuse", [None, True, ts.AUTO_REUSE],
                         ids=["no_reuse", "reuse_true", "auto_reuse"])
def test_partitioner_on_unpartitioned_variable_raises(store, reuse):
    """§3.10 case 109 (P8): whatever the reuse mode (TF verified for True and AUTO_REUSE)."""
    with ts.variable_scope("scope0"):
        ts.get_variable("name0", (4, 1, 1))
    with ts.variable_scope("scope0", partitioner=axis0_into2, reuse=reuse):
        with pytest.raises(ts.PartitionerError, match=(
                r"^A partitioner was provided, but an unpartitioned version of the variable "
                r"was found: scope0/name0\.  Perhaps a variable of the same name was already "
                r"created without partitioning\?")):
            ts.get_variable("name0", (4, 1, 1))


def test_partitioned_reuse_with_other_shape_raises(store):
    """§3.10 case 109 (P11, TF verified)."""
    with ts.variable_scope("scope0", partitioner=axis0_into2):
        ts.get_variable("name0", (4, 1, 1))
    with ts.variable_scope("scope0", partitioner=axis0_into2, reuse=True):
        with pytest.raises(ts.ShapeMismatchError, match=(
                r"^Trying to reuse partitioned variable scope0/name0, but specified shape "
                r"\(6, 1, 1\) and found shape \(4, 1, 1\)\.")):
            ts.get_variable("name0", (6, 1, 1))


def test_partitioned_reuse_with_other_dtype_raises(store):
    """§3.10 case 109 (P12, TF verified; dtype names without ``_ref``)."""
    with ts.variable_scope("scope0", partitioner=axis0_into2):
        ts.get_variable("name0", (4, 1, 1))
    with ts.variable_scope("scope0", reuse=True):
        with pytest.raises(ts.DTypeMismatchError, match=(
                r"^Trying to reuse partitioned variable scope0/name0, but specified dtype "
                r"float64 and found dtype float32\.")):
            ts.get_variable("name0", (4, 1, 1), dtype=torch.float64)


@pytest.mark.parametrize("partitioner, shape, message", [
    (lambda shape, dtype: [2, 2], (4, 4),
     r"^Can only slice a variable along one dimension: shape: \(4, 4\), partitioning: "
     r"\[2, 2\]"),
    (lambda shape, dtype: [2], (4, 4),
     r"^Partitioner returned a partition list that does not match the Variable's rank: "
     r"\[2\] vs\. \(4, 4\)"),
    (lambda shape, dtype: [0, 1], (4, 4),
     r"^Partitioner returned zero partitions for some axes: \[0, 1\]"),
    (lambda shape, dtype: 2, (4, 4), r"^Partitioner must return a sequence, but saw: 2"),
    (3, (4, 4), r"^Partitioner must be callable, but received: 3"),
    (axis0_into2, (None, 4),
     r"^Shape of a new partitioned variable must be fully defined, but instead was "
     r"\(None, 4\)\."),
], ids=["P7_two_axes", "P5_rank", "P6_zero", "P4_not_sequence", "P1_not_callable",
        "P2_partial_shape"])
def test_invalid_partitioning_raises_and_creates_nothing(store, partitioner, shape, message):
    """§3.10 case 109 (P7, P5, P6, P4, P1, P2): TF's partitioner validation; a failed call
    leaves the store empty."""
    with pytest.raises(ts.PartitionerError, match=message):
        ts.get_variable("w", shape, partitioner=partitioner)
    assert len(store) == 0
