"""``ts.save_safetensors`` / ``ts.load_safetensors``: shared tensors written once, aliases in
the metadata, loaded in place so ties and optimizer references survive.

The model throughout: two ``ScopedModule`` towers on one store inside a parent ``nn.Module``
(sharing ``tower/w``, ``tower/b`` and an int64 non-trainable ``tower/steps`` buffer), and a
plain ``nn.Linear`` head.
"""

import json
import os

import pytest
import safetensors.torch
import torch
from safetensors import safe_open
from torch import nn

import torchscope as ts

SHARED = ["tower/w", "tower/b", "tower/steps"]
KEPT = ["left.tower/w", "left.tower/b", "left.tower/steps", "head.weight", "head.bias"]
ALIASES = {"right.tower/w": "left.tower/w", "right.tower/b": "left.tower/b",
           "right.tower/steps": "left.tower/steps"}


def tower(store, reuse):
    def fn(x):
        with ts.variable_scope("tower", reuse=reuse):
            w = ts.get_variable("w", [4, 4])
            b = ts.get_variable("b", [4], initializer=ts.random_normal_initializer())
            ts.get_variable("steps", [], dtype=torch.int64, trainable=False,
                            initializer=ts.zeros_initializer())
            return x @ w + b
    return ts.ScopedModule.wrap(fn, store=store)


class Towers(nn.Module):
    def __init__(self):
        super().__init__()
        store = ts.ScopedParameterStore()
        self.left = tower(store, reuse=False)
        self.right = tower(store, reuse=True)
        self.head = nn.Linear(4, 1)
        x = torch.ones(1, 4)
        self.left.build(x)
        self.right.build(x)

    def forward(self, a, b):
        return self.head(self.left(a) * self.right(b))


def binding(module, name):
    return module.get_buffer(name) if name == "tower/steps" else module.get_parameter(name)


def assert_tied(model):
    """Each shared variable is one object: in the store, on ``left`` and on ``right``."""
    for name in SHARED:
        kept = model.left.store[name]
        assert binding(model.left, name) is kept
        assert binding(model.right, name) is kept


def assert_same_values(model, reference):
    got, want = model.state_dict(), reference.state_dict()
    assert list(got) == list(want)
    for key in want:
        assert torch.equal(got[key], want[key]), key


@pytest.fixture
def saved(tmp_path):
    """A built model, with its steps counter set, saved with ``ts.save_safetensors``."""
    model = Towers()
    with torch.no_grad():
        model.left.store["tower/steps"].fill_(7)
    path = tmp_path / "towers.safetensors"
    aliases = ts.save_safetensors(model, path)
    return model, path, aliases


# --------------------------------------------------------------------------- saving

def test_plain_save_file_refuses_shared_parameters(tmp_path):
    """The problem: ``safetensors.torch.save_file(model.state_dict())`` refuses a model whose
    state_dict has several keys for one tensor."""
    model = Towers()
    path = tmp_path / "plain.safetensors"
    with pytest.raises(RuntimeError, match=r"Some tensors share memory"):
        safetensors.torch.save_file(model.state_dict(), str(path))
    assert not path.exists()


def test_save_writes_each_shared_tensor_once_under_its_first_key(saved):
    """The file holds each distinct tensor once, under its first state_dict key."""
    _, path, aliases = saved
    with safe_open(str(path), framework="pt") as handle:
        assert sorted(handle.keys()) == sorted(KEPT)
    assert aliases == ALIASES


def test_save_records_aliases_in_the_metadata(saved):
    """The metadata records every dropped key twice: as torchscope's JSON alias table, and as
    ``metadata[alias] = kept`` (``safetensors.torch.save_model``'s convention)."""
    _, path, _ = saved
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    assert json.loads(metadata["torchscope.aliases"]) == ALIASES
    for alias, kept in ALIASES.items():
        assert metadata[alias] == kept
    assert metadata["format"] == "pt"


def test_save_stores_the_values_of_the_kept_tensors(saved):
    model, path, _ = saved
    with safe_open(str(path), framework="pt") as handle:
        for key in KEPT:
            assert torch.equal(handle.get_tensor(key), model.state_dict()[key])
        assert handle.get_tensor("left.tower/steps").dtype == torch.int64
        assert handle.get_tensor("left.tower/steps").item() == 7


def test_save_keeps_user_metadata(tmp_path):
    path = tmp_path / "meta.safetensors"
    ts.save_safetensors(Towers(), path, metadata={"epoch": 3, "note": "towers"})
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    assert metadata["epoch"] == "3"
    assert metadata["note"] == "towers"


def test_save_of_a_model_without_sharing_has_no_aliases(tmp_path):
    path = tmp_path / "linear.safetensors"
    assert ts.save_safetensors(nn.Linear(2, 3), path) == {}
    with safe_open(str(path), framework="pt") as handle:
        assert sorted(handle.keys()) == ["bias", "weight"]
        assert json.loads(handle.metadata()["torchscope.aliases"]) == {}


# --------------------------------------------------------------------------- loading

def test_load_into_a_fresh_model_restores_values_and_keeps_the_tie(saved):
    """A fresh, identically built model (different random values) gets the saved values, and
    each shared variable is still one object in the store and both towers."""
    model, path, _ = saved
    fresh = Towers()
    assert not torch.equal(fresh.left.store["tower/w"], model.left.store["tower/w"])
    ts.load_safetensors(fresh, path)
    assert_same_values(fresh, model)
    assert_tied(fresh)


@pytest.mark.cuda
def test_cuda_model_saves_each_shared_tensor_once_and_loads_into_a_cpu_model(tmp_path):
    model = Towers().cuda()
    path = tmp_path / "towers.safetensors"
    assert ts.save_safetensors(model, path) == ALIASES
    fresh = Towers()
    ts.load_safetensors(fresh, path)
    assert_tied(fresh)
    loaded = fresh.state_dict()
    for key, value in model.state_dict().items():
        assert not loaded[key].is_cuda and torch.equal(loaded[key], value.cpu()), key


def test_load_is_in_place_so_optimizer_references_stay_valid(saved):
    """Parameters handed to an optimizer before loading are the very objects loaded into, so
    its next step trains the loaded (and still shared) values. The optimizer is a manual SGD
    step over the references taken before the load (``torch.optim.SGD`` would hold the same
    references, and constructing one costs seconds of imports here)."""
    model, path, _ = saved
    fresh = Towers()
    held = list(fresh.parameters())                 # what an optimizer would keep
    ts.load_safetensors(fresh, path)
    assert [id(p) for p in fresh.parameters()] == [id(p) for p in held]
    assert torch.equal(held[0], model.left.store["tower/w"])
    loaded = fresh.left.store["tower/w"].detach().clone()
    fresh(torch.ones(1, 4), torch.ones(1, 4)).sum().backward()
    with torch.no_grad():
        for param in held:
            param -= 0.5 * param.grad
    w = fresh.left.store["tower/w"]
    assert not torch.equal(w, loaded)
    assert torch.allclose(w, loaded - 0.5 * w.grad)
    assert fresh.right.get_parameter("tower/w") is w


def test_load_with_plain_safetensors_load_model(saved):
    """``safetensors.torch.load_model`` reads the file too (it follows the alias metadata),
    with no missing or unexpected keys, and the tie survives."""
    model, path, _ = saved
    fresh = Towers()
    missing, unexpected = safetensors.torch.load_model(fresh, str(path))
    assert (set(missing), list(unexpected)) == (set(), [])
    assert_same_values(fresh, model)
    assert_tied(fresh)


def test_load_reads_a_file_written_by_plain_save_model(tmp_path):
    """A file from ``safetensors.torch.save_model`` (aliases in plain metadata, no torchscope
    table) loads with ``ts.load_safetensors``."""
    model = Towers()
    path = tmp_path / "save_model.safetensors"
    safetensors.torch.save_model(model, str(path))
    fresh = Towers()
    ts.load_safetensors(fresh, path)
    assert_same_values(fresh, model)
    assert_tied(fresh)


def test_load_strict_with_unexpected_keys_raises(saved):
    """The file has ``head.*`` keys a model without a head lacks: PyTorch's strict error."""
    _, path, _ = saved
    headless = Towers()
    del headless.head
    with pytest.raises(RuntimeError, match=r"Unexpected key\(s\) in state_dict: .*head\.weight"):
        ts.load_safetensors(headless, path)


def test_load_strict_with_missing_keys_raises(saved):
    """A model with one more module than the file: PyTorch's strict "Missing key(s)" error;
    ``strict=False`` loads the rest."""
    model, path, _ = saved
    bigger = Towers()
    bigger.extra = nn.Linear(1, 1)
    with pytest.raises(RuntimeError, match=r"Missing key\(s\) in state_dict: .*extra\.weight"):
        ts.load_safetensors(bigger, path)
    other = Towers()
    other.extra = nn.Linear(1, 1)
    ts.load_safetensors(other, path, strict=False)
    assert torch.equal(other.left.store["tower/w"], model.left.store["tower/w"])
    assert_tied(other)


# --------------------------------------------------------------------------- a store

def test_save_a_store_uses_tf_names_as_keys(saved, tmp_path):
    """A store is saved by TF names (not state_dict keys), each variable once."""
    model, _, _ = saved
    path = tmp_path / "store.safetensors"
    assert ts.save_safetensors(model.left.store, path) == {}
    with safe_open(str(path), framework="pt") as handle:
        assert sorted(handle.keys()) == sorted(SHARED)
        assert torch.equal(handle.get_tensor("tower/w"), model.left.store["tower/w"])


def test_save_a_store_keeps_dots_in_tf_names(tmp_path):
    """TF names with a ``.`` are keys as they are in a store file; the module's state_dict key
    escapes the dot, and both files load back."""
    net = ts.ScopedModule.wrap(lambda x: x * ts.get_variable("layer.1/w", [2]))
    net(torch.ones(2))
    store_path, module_path = tmp_path / "store.safetensors", tmp_path / "module.safetensors"
    ts.save_safetensors(net.store, store_path)
    ts.save_safetensors(net, module_path)
    with safe_open(str(store_path), framework="pt") as handle:
        assert list(handle.keys()) == ["layer.1/w"]
    with safe_open(str(module_path), framework="pt") as handle:
        assert list(handle.keys()) == ["layer%2E1/w"]
    expected = net.store["layer.1/w"].detach().clone()
    with torch.no_grad():
        net.store["layer.1/w"].zero_()
    ts.load_safetensors(net.store, store_path)
    assert torch.equal(net.store["layer.1/w"], expected)
    with torch.no_grad():
        net.store["layer.1/w"].zero_()
    ts.load_safetensors(net, module_path)
    assert torch.equal(net.get_parameter("layer%2E1/w"), expected)


def test_load_a_store_in_place_keeps_the_towers_tied(saved, tmp_path):
    """Loading a store file into the store of a fresh model updates the objects the towers
    hold."""
    model, _, _ = saved
    path = tmp_path / "store.safetensors"
    ts.save_safetensors(model.left.store, path)
    fresh = Towers()
    w = fresh.left.store["tower/w"]
    ts.load_safetensors(fresh.left.store, path)
    assert fresh.left.store["tower/w"] is w
    assert torch.equal(fresh.right.get_parameter("tower/w"), model.left.store["tower/w"])
    assert fresh.right.get_buffer("tower/steps").item() == 7
    assert_tied(fresh)


def test_load_a_store_strict_mismatch_raises_and_changes_nothing(tmp_path):
    """A store file lacking one of the store's variables: StateDictError naming the missing
    key, and no variable changed."""
    small = ts.ScopedParameterStore()
    small.get_variable("a", [2], initializer=ts.ones_initializer())
    path = tmp_path / "small.safetensors"
    ts.save_safetensors(small, path)
    big = ts.ScopedParameterStore()
    a = big.get_variable("a", [2], initializer=ts.zeros_initializer())
    big.get_variable("b", [2])
    with pytest.raises(ts.StateDictError,
                       match=r"^Error\(s\) in loading state_dict for ScopedParameterStore: "
                             r"missing keys \['b'\], unexpected keys \[\]\."):
        ts.load_safetensors(big, path)
    assert torch.equal(a, torch.zeros(2))
    ts.load_safetensors(big, path, strict=False)
    assert torch.equal(big["a"], torch.ones(2))


def test_save_refuses_an_object_that_is_neither_module_nor_store(tmp_path):
    path = tmp_path / "dict.safetensors"
    with pytest.raises(ts.StateDictError,
                       match=r"^save_safetensors/load_safetensors take an nn\.Module or a "
                             r"ScopedParameterStore, got dict\."):
        ts.save_safetensors({"w": torch.ones(1)}, path)
    assert not path.exists()


# --------------------------------------------------------------------------- failed saves

@pytest.mark.parametrize("key", ["format", "torchscope.aliases", "right.tower/w"])
def test_save_with_a_reserved_metadata_key_raises_and_writes_no_file(tmp_path, key):
    """Metadata may not overwrite the format, the alias table or an alias record: the save
    fails before writing anything."""
    path = tmp_path / "reserved.safetensors"
    with pytest.raises(ts.StateDictError,
                       match=rf"^Metadata key '{key}' is reserved by torchscope"):
        ts.save_safetensors(Towers(), path, metadata={key: "mine"})
    assert os.listdir(tmp_path) == []


def test_failed_save_keeps_the_existing_file(saved):
    """A failed save over an existing file leaves that file as it was."""
    _, path, _ = saved
    before = path.read_bytes()
    with pytest.raises(ts.StateDictError, match="is reserved by torchscope"):
        ts.save_safetensors(Towers(), path, metadata={"format": "np"})
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == [path.name]


def test_save_failing_while_writing_leaves_no_file(tmp_path, monkeypatch):
    """If writing fails halfway (here: safetensors writes some bytes, then raises), no file —
    partial or final — is left behind."""
    def half_write(tensors, filename, metadata=None):
        with open(filename, "wb") as handle:
            handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", half_write)
    with pytest.raises(OSError, match="disk full"):
        ts.save_safetensors(Towers(), tmp_path / "towers.safetensors")
    assert os.listdir(tmp_path) == []


def test_save_of_a_meta_model_raises_and_leaves_no_file(tmp_path):
    """Tensors without data (a model moved to ``meta``) cannot be saved; nothing is written."""
    model = Towers().to("meta")
    with pytest.raises(NotImplementedError, match="meta tensor"):
        ts.save_safetensors(model, tmp_path / "meta.safetensors")
    assert os.listdir(tmp_path) == []
