"""ScopedParameterStore as an object: mapping protocol, state dicts, copying, the default store,
collections helpers and TF1's partitioner factories."""

import copy
import pickle
import threading

import pytest
import torch

import torchscope as ts


def _filled():
    store = ts.ScopedParameterStore()
    with store.as_default():
        with ts.variable_scope("tower"):
            ts.get_variable("w", [2, 3])
            ts.get_variable("mean", [3], trainable=False)
        ts.Variable(torch.ones(1), name="v")
    return store


def test_mapping_protocol_lists_tf_names_in_creation_order():
    store = _filled()
    assert list(store) == ["tower/w", "tower/mean", "v"] and len(store) == 3
    assert "tower/w" in store and "tower/x" not in store
    assert store["v"] is store.get_collection(ts.GraphKeys.GLOBAL_VARIABLES)[2]
    assert repr(store) == "<ScopedParameterStore with 3 variables>"


def test_missing_name_and_foreign_tensor_raise_state_dict_error():
    store = _filled()
    with pytest.raises(ts.StateDictError, match=r"No variable named 'tower/x' in this store"):
        store["tower/x"]
    with pytest.raises(ts.StateDictError, match="not a variable of this store"):
        store.name_of(torch.zeros(1))


def test_state_dict_round_trip_copies_in_place():
    store = _filled()
    w = store["tower/w"]
    state = {name: torch.full_like(value, 5.0) for name, value in store.state_dict().items()}
    store.load_state_dict(state)
    assert store["tower/w"] is w and torch.equal(w.detach(), torch.full((2, 3), 5.0))


def test_load_state_dict_checks_everything_before_copying():
    store = _filled()
    before = {name: value.clone() for name, value in store.state_dict().items()}
    bad = {name: torch.zeros_like(value) for name, value in before.items()}
    bad["v"] = torch.zeros(4)
    with pytest.raises(ts.StateDictError, match=r"Size mismatch for v: copying a value of shape "
                                                r"\(4,\), the variable has shape \(1,\)"):
        store.load_state_dict(bad)
    with pytest.raises(ts.StateDictError, match=r"missing keys \['v'\], unexpected keys "
                                                r"\['extra'\]"):
        store.load_state_dict({"tower/w": torch.zeros(2, 3), "tower/mean": torch.zeros(3),
                               "extra": torch.zeros(1)})
    after = store.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    store.load_state_dict({"tower/w": torch.zeros(2, 3)}, strict=False)
    assert torch.equal(store["tower/w"].detach(), torch.zeros(2, 3))


def test_apply_constraints_projects_in_place():
    store = ts.ScopedParameterStore()
    with store.as_default():
        w = ts.get_variable("w", initializer=[-1.0, 2.0], constraint=lambda t: t.clamp(min=0))
    store.apply_constraints()
    assert w.tolist() == [0.0, 2.0]


def test_deepcopy_and_pickle_give_independent_working_stores():
    store = _filled()
    for clone in (copy.deepcopy(store), pickle.loads(pickle.dumps(store))):
        assert list(clone) == list(store)
        assert clone["tower/w"] is not store["tower/w"]
        assert torch.equal(clone["tower/w"], store["tower/w"])
        assert clone.name_of(clone["tower/w"]) == "tower/w"
        with clone.as_default():
            with ts.variable_scope("tower", reuse=True):
                assert ts.get_variable("w", [2, 3]) is clone["tower/w"]
            ts.get_variable("new", [1])
        assert "new" in clone and "new" not in store


def test_store_device_places_new_variables():
    store = ts.ScopedParameterStore(device="meta")
    with store.as_default():
        w = ts.get_variable("w", [2, 2])
        v = ts.Variable(torch.ones(2), name="v")
    assert w.is_meta and v.is_meta and store.device == torch.device("meta")


def test_as_default_is_per_thread():
    store = ts.ScopedParameterStore()
    seen = []
    with store.as_default():
        thread = threading.Thread(target=lambda: seen.append(ts.get_default_store()))
        thread.start()
        thread.join()
    assert seen[0] is not store


def test_reset_default_graph_replaces_the_default_store():
    old = ts.get_default_store()
    with ts.variable_scope("reset_test"):
        pass
    try:
        ts.reset_default_graph()
        new = ts.get_default_store()
        assert new is not old and len(new) == 0
        assert ts.get_variable_scope().name == ""
    finally:
        from torchscope import _store
        _store._DEFAULT_STORE = old
        old._retired = False
        _store._thread.defaults.state = None


def test_reset_default_graph_inside_as_default_raises():
    with ts.ScopedParameterStore().as_default():
        with pytest.raises(ts.ScopeNestingError, match="Do not use reset_default_graph"):
            ts.reset_default_graph()


def test_add_to_collections_and_model_variables(store):
    w = ts.get_variable("w", [1], collections=[ts.GraphKeys.MODEL_VARIABLES,
                                              ts.GraphKeys.GLOBAL_VARIABLES])
    ts.add_to_collections(["a", "b", "a"], 3)
    ts.add_to_collections("c", w)
    assert ts.get_collection("a") == [3] and ts.get_collection("b") == [3]
    assert ts.get_collection("c")[0] is w
    assert ts.model_variables()[0] is w and ts.model_variables("x") == []


@pytest.mark.parametrize("shape, shards", [((1024, 4), [4, 1]), ((10, 4), [1, 1]),
                                           ((3, 1000), [3, 1])])
def test_variable_axis_size_partitioner_caps_shard_bytes(shape, shards):
    partitioner = ts.variable_axis_size_partitioner(max_shard_bytes=4096)
    assert partitioner(shape=torch.Size(shape), dtype=torch.float32) == shards


def test_variable_axis_size_partitioner_rejects_non_positive_bytes():
    with pytest.raises(ts.PartitionerError, match="max_shard_bytes must be positive"):
        ts.variable_axis_size_partitioner(0)


def test_min_max_variable_partitioner_respects_both_bounds():
    partitioner = ts.min_max_variable_partitioner(max_partitions=4, min_slice_size=1024)
    assert partitioner(shape=torch.Size((100, 10)), dtype=torch.float32) == [3, 1]
    assert partitioner(shape=torch.Size((1000, 10)), dtype=torch.float32) == [4, 1]
    assert partitioner(shape=torch.Size((2, 2)), dtype=torch.float32) == [1, 1]
    with ts.ScopedParameterStore().as_default():
        w = ts.get_variable("w", [100, 10], partitioner=partitioner)
    assert w.shape == (100, 10)


def test_user_initializer_subclass_results_are_still_checked(store):
    """get_variable's direct path trusts only torchscope's own initializers to return the
    requested shape and dtype; a user subclass goes through the checked path."""
    class Sloppy(ts.initializers.Initializer):
        def __call__(self, shape, dtype=None, partition_info=None):
            return torch.zeros(3)

    with pytest.raises(ts.InitializerError, match=r"The initializer of variable w returned a "
                                                  r"tensor of shape \(3,\), but the variable "
                                                  r"has shape \(2, 2\)"):
        ts.get_variable("w", [2, 2], initializer=Sloppy())
    assert "w" not in store


def test_name_of_knows_variables_made_before_and_after_the_first_lookup():
    """The id index is built on the first lookup, then kept up to date: by creation, by a failed
    call's rollback and by a re-tie."""
    store = ts.ScopedParameterStore()
    with store.as_default():
        first = ts.get_variable("first", [1])
        assert store.name_of(first) == "first"            # builds the index
        second = ts.get_variable("second", [1])

        def failing_getter(getter, name, *args, **kwargs):
            getter(name, *args, **kwargs)                  # creates, then the call fails
            raise RuntimeError("boom")

        with pytest.raises(Exception):
            ts.get_variable("third", [1], custom_getter=failing_getter)
    assert store.name_of(second) == "second"
    assert list(store) == ["first", "second"]
    replacement = torch.nn.Parameter(torch.zeros(1))
    store.replace(store.record_of(first), replacement)
    assert store.name_of(replacement) == "first"
    assert store.record_of(first) is None
