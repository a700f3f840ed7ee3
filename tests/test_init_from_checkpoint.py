"""init_from_checkpoint: TF1's assignment-map rules, all-or-nothing, without TensorFlow."""

import os

import numpy as np
import pytest
import torch

import torchscope as ts

DATA = os.path.join(os.path.dirname(__file__), "data", "checkpoints")
MANY = os.path.join(DATA, "tf1_many_dtypes")
SHARDED = os.path.join(DATA, "tf1_sharded")
TF2 = os.path.join(DATA, "tf2_object")


def _tensor(path, name):
    return torch.from_numpy(np.asarray(ts.checkpoint.load_variable(path, name)))


def _bert_store():
    store = ts.ScopedParameterStore()
    with store.as_default():
        with ts.variable_scope("model"):
            ts.get_variable("embeddings/word_embeddings", [32, 16])
            with ts.variable_scope("encoder/layer_0/attention/self/query"):
                ts.get_variable("kernel", [16, 16])
                ts.get_variable("bias", [16])
    return store


def test_scope_to_scope_mapping_loads_every_variable_under_the_scope():
    store = _bert_store()
    loaded = ts.checkpoint.init_from_checkpoint(MANY, {"bert/": "model/"}, store=store)
    assert loaded == {
        "model/embeddings/word_embeddings": "bert/embeddings/word_embeddings",
        "model/encoder/layer_0/attention/self/query/bias":
            "bert/encoder/layer_0/attention/self/query/bias",
        "model/encoder/layer_0/attention/self/query/kernel":
            "bert/encoder/layer_0/attention/self/query/kernel",
    }
    for variable, tensor in loaded.items():
        assert torch.equal(store[variable].detach(), _tensor(MANY, tensor))


def test_loading_is_in_place_so_references_and_ties_survive():
    store = _bert_store()
    kernel = store["model/encoder/layer_0/attention/self/query/kernel"]
    ts.checkpoint.init_from_checkpoint(MANY, {"bert/": "model/"}, store=store)
    assert store["model/encoder/layer_0/attention/self/query/kernel"] is kernel
    assert kernel.requires_grad


def test_root_mapping_into_a_scope_and_one_to_one_names():
    store = ts.ScopedParameterStore()
    with store.as_default():
        with ts.variable_scope("net"):
            w0 = ts.get_variable("tower_0/w", [4, 3])
            b0 = ts.get_variable("tower_0/b", [3])
        w1 = ts.get_variable("renamed", [4, 3])
    ts.checkpoint.init_from_checkpoint(SHARDED, {"/": "net/", "tower_1/w": "renamed"},
                                       store=store)
    assert torch.equal(w0.detach(), _tensor(SHARDED, "tower_0/w"))
    assert torch.equal(b0.detach(), _tensor(SHARDED, "tower_0/b"))
    assert torch.equal(w1.detach(), _tensor(SHARDED, "tower_1/w"))


def test_a_variable_object_as_target():
    store = ts.ScopedParameterStore()
    with store.as_default():
        w = ts.get_variable("anything", [4, 3])
    ts.checkpoint.init_from_checkpoint(SHARDED, {"tower_0/w": w}, store=store)
    assert torch.equal(w.detach(), _tensor(SHARDED, "tower_0/w"))


def test_tf2_object_based_names_map_one_to_one():
    store = ts.ScopedParameterStore()
    with store.as_default():
        kernel = ts.get_variable("dense/kernel", [4, 3])
    ts.checkpoint.init_from_checkpoint(
        TF2, {"model/dense/kernel/.ATTRIBUTES/VARIABLE_VALUE": "dense/kernel"}, store=store)
    assert torch.equal(kernel.detach(),
                       _tensor(TF2, "model/dense/kernel/.ATTRIBUTES/VARIABLE_VALUE"))


def test_a_scoped_module_can_stand_for_its_store():
    net = ts.ScopedModule.wrap(lambda x: x @ ts.get_variable("tower_0/w", [4, 3]))
    net.build(torch.ones(1, 4))
    ts.checkpoint.init_from_checkpoint(SHARDED, {"tower_0/": "tower_0/"}, store=net)
    assert torch.equal(net.get_parameter("tower_0/w").detach(), _tensor(SHARDED, "tower_0/w"))


def test_default_store_is_used_without_a_store_argument():
    with ts.ScopedParameterStore().as_default():
        w = ts.get_variable("tower_0/w", [4, 3])
        ts.checkpoint.init_from_checkpoint(SHARDED, {"tower_0/w": "tower_0/w"})
    assert torch.equal(w.detach(), _tensor(SHARDED, "tower_0/w"))


def test_optimizer_slots_and_counters_are_left_out_of_scope_mappings():
    store = ts.ScopedParameterStore()
    with store.as_default():
        w = ts.get_variable("tower_0/w", [4, 3])
        ts.get_variable("tower_0/w/Adam", [4, 3])             # slots TF1 training code made
        ts.get_variable("global_step", [], dtype=torch.int64, trainable=False)
    loaded = ts.checkpoint.init_from_checkpoint(SHARDED, {"/": "/"}, store=store)
    assert loaded == {"tower_0/w": "tower_0/w"}
    assert torch.equal(w.detach(), _tensor(SHARDED, "tower_0/w"))
    with pytest.raises(ts.AssignmentMapError, match=r"Tensor tower_0/w/Adam is not found"):
        ts.checkpoint.init_from_checkpoint(SHARDED, {"/": "/"}, store=store,
                                           skip_optimizer_slots=False)


@pytest.mark.parametrize("name, is_slot", [
    ("bert/layer_0/kernel/adam_m", True), ("bert/layer_0/kernel/adam_v", True),
    ("dense/kernel/Adam", True), ("dense/kernel/Adam_1", True), ("w/Momentum", True),
    ("global_step", True), ("beta1_power", True), ("model/.OPTIMIZER_SLOT/optimizer/m", True),
    ("dense/kernel", False), ("adamant/kernel", False), ("steps/global_steps", False),
])
def test_optimizer_slot_pattern(name, is_slot):
    assert bool(ts.checkpoint.OPTIMIZER_SLOT_PATTERN.search(name)) is is_slot


def _snapshot(store):
    return {name: store[name].detach().clone() for name in store}


def test_missing_tensor_raises_and_writes_nothing():
    store = _bert_store()
    with store.as_default():
        ts.get_variable("model/pooler/dense/kernel", [16, 16])
    before = _snapshot(store)
    with pytest.raises(ts.AssignmentMapError,
                       match=r"Tensor bert/pooler/dense/kernel is not found in .*tf1_many_dtypes "
                             r"checkpoint \(wanted for variable model/pooler/dense/kernel\)"):
        ts.checkpoint.init_from_checkpoint(MANY, {"bert/": "model/"}, store=store)
    after = _snapshot(store)
    assert all(torch.equal(before[name], after[name]) for name in before)


def test_shape_mismatch_raises_with_both_shapes_and_writes_nothing():
    store = ts.ScopedParameterStore()
    with store.as_default():
        ok = ts.get_variable("a", [4, 3])
        bad = ts.get_variable("b", [3, 4])
    before, before_bad = ok.detach().clone(), bad.detach().clone()
    with pytest.raises(ts.AssignmentMapError,
                       match=r"Shape of variable b \(\(3, 4\)\) doesn't match with shape of "
                             r"tensor tower_1/w \(\(4, 3\)\) from checkpoint reader\."):
        ts.checkpoint.init_from_checkpoint(SHARDED, {"tower_0/w": "a", "tower_1/w": "b"},
                                           store=store)
    assert torch.equal(ok.detach(), before) and torch.equal(bad.detach(), before_bad)


def test_dtype_mismatch_raises_before_writing():
    store = ts.ScopedParameterStore()
    with store.as_default():
        first = ts.get_variable("a", [4, 3])
        step = ts.get_variable("step", [], dtype=torch.int32, trainable=False)
    before = first.detach().clone()
    with pytest.raises(ts.AssignmentMapError,
                       match=r"Tensor global_step in .* has dtype int64, variable step has "
                             r"dtype int32"):
        ts.checkpoint.init_from_checkpoint(SHARDED, {"tower_0/w": "a", "global_step": "step"},
                                           store=store)
    assert torch.equal(first.detach(), before) and step.item() == 0


def test_scope_mapped_to_a_name_raises_tf1_error():
    store = _bert_store()
    with pytest.raises(ts.AssignmentMapError,
                       match=r"Assignment map with scope only name model should map to scope "
                             r"only bert\. Should be 'scope/': 'other_scope/'\."):
        ts.checkpoint.init_from_checkpoint(MANY, {"bert": "model/"}, store=store)


def test_foreign_tensor_target_and_bad_values_raise():
    store = _bert_store()
    with pytest.raises(ts.AssignmentMapError, match="is not a variable of this store"):
        ts.checkpoint.init_from_checkpoint(MANY, {"dense/kernel": torch.zeros(20, 15)},
                                           store=store)
    with pytest.raises(ts.AssignmentMapError, match="values must be variable names"):
        ts.checkpoint.init_from_checkpoint(MANY, {"dense/kernel": 3}, store=store)
    with pytest.raises(ts.AssignmentMapError, match="store must be a ScopedParameterStore"):
        ts.checkpoint.init_from_checkpoint(MANY, {"/": "/"}, store="model")


def test_missing_checkpoint_raises_not_found():
    with pytest.raises(ts.CheckpointNotFoundError, match="no-such-checkpoint"):
        ts.checkpoint.init_from_checkpoint(os.path.join(DATA, "no-such-checkpoint"),
                                           {"/": "/"}, store=ts.ScopedParameterStore())


@pytest.mark.cuda
def test_cuda_checkpoint_values_load_in_place_into_gpu_variables():
    store = ts.ScopedParameterStore(device="cuda")
    with store.as_default():
        with ts.variable_scope("model"):
            ts.get_variable("embeddings/word_embeddings", [32, 16])
    embeddings = store["model/embeddings/word_embeddings"]
    loaded = ts.checkpoint.init_from_checkpoint(MANY, {"bert/embeddings/": "model/embeddings/"},
                                                store=store)
    assert loaded == {"model/embeddings/word_embeddings": "bert/embeddings/word_embeddings"}
    assert store["model/embeddings/word_embeddings"] is embeddings and embeddings.is_cuda
    assert torch.equal(embeddings.detach().cpu(),
                       _tensor(MANY, "bert/embeddings/word_embeddings"))
