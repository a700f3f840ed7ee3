"""``ts.layers`` inside a ``ScopedModule``: stable names over passes, moving statistics updated by
every training pass, dtypes, and ``torch.compile(fullgraph=True)``."""

import copy

import pytest
import torch

import torchscope as ts
from torchscope import layers


class Net(ts.ScopedModule):
    """A small conv + batch norm + dense net with unnamed layers (names come from counters)."""

    def forward(self, x, training=False):
        h = layers.conv2d(x, 4, 3, strides=2, padding="same", activation=torch.relu)
        h = layers.batch_normalization(h, training=training)
        h = layers.max_pooling2d(h, 2, 2, padding="same")
        h = layers.dropout(h, 0.5, training=False)
        h = layers.flatten(h)
        h = layers.dense(h, 6, activation=torch.tanh)
        h = layers.batch_normalization(h, training=training)
        return layers.dense(h, 2)


NAMES = ["conv2d/kernel", "conv2d/bias", "batch_normalization/gamma",
         "batch_normalization/beta", "batch_normalization/moving_mean",
         "batch_normalization/moving_variance", "dense/kernel", "dense/bias",
         "batch_normalization_1/gamma", "batch_normalization_1/beta",
         "batch_normalization_1/moving_mean", "batch_normalization_1/moving_variance",
         "dense_1/kernel", "dense_1/bias"]


@pytest.fixture
def x():
    torch.manual_seed(0)
    return torch.randn(4, 6, 6, 3)


@pytest.fixture
def net(x):
    torch.manual_seed(1)
    return Net().build(x)


def test_layers_in_a_scoped_module_keep_their_names_over_passes(net, x):
    objects = dict(net.state_dict(keep_vars=True))
    for training in (True, False, True):
        net(x, training=training)
    assert sorted(net.state_dict()) == sorted(NAMES)
    assert all(net.state_dict(keep_vars=True)[name] is objects[name] for name in NAMES)
    assert len(net.store) == len(NAMES)


def test_layers_every_training_pass_updates_every_moving_statistic(net, x):
    for _ in range(3):
        before = {name: b.clone() for name, b in net.named_buffers()}
        net(x, training=True)
        changed = [name for name, b in net.named_buffers() if not torch.equal(b, before[name])]
        assert changed == [name for name in NAMES if "/moving_" in name]


def test_layers_moving_mean_after_k_training_passes_follows_tfs_recurrence(x):
    net = ts.ScopedModule.wrap(lambda t, training: layers.batch_normalization(
        t, training=training)).build(x, False)
    batch_mean = x.mean((0, 1, 2))
    for k in range(1, 4):
        net(x, True)
        torch.testing.assert_close(net.get_buffer("batch_normalization/moving_mean"),
                                   (1 - 0.99 ** k) * batch_mean)


def test_layers_inference_passes_leave_the_buffers_alone(net, x):
    before = {name: b.clone() for name, b in net.named_buffers()}
    net(x)
    net(x, training=False)
    assert all(torch.equal(b, before[name]) for name, b in net.named_buffers())


def test_layers_module_built_in_float64_holds_float64_variables(x):
    net = Net().build(x.double())
    assert net(x.double(), training=True).dtype == torch.float64
    assert {value.dtype for value in net.state_dict().values()} == {torch.float64}


class Small(ts.ScopedModule):
    """conv + batch norm + dense: the compile tests' net (tracing time grows with layers)."""

    def forward(self, x, training=False):
        h = layers.conv2d(x, 4, 3, strides=2, padding="same", activation=torch.relu)
        h = layers.batch_normalization(h, training=training)
        return layers.dense(layers.flatten(h), 2)


@pytest.fixture
def small(x):
    torch.manual_seed(2)
    return Small().build(x)


def test_layers_compiled_fullgraph_has_no_graph_breaks_and_matches_eager(small, x):
    """fullgraph=True raises at the first graph break; aot_eager functionalizes the in-place
    buffer updates as inductor does, without inductor's compile time."""
    twin = copy.deepcopy(small)
    twin(x)     # an eager pass on the copy's fresh store first, as after build (no recompile)
    compiled = torch.compile(twin, fullgraph=True, backend="aot_eager")
    for training in (True, True, False):
        torch.testing.assert_close(compiled(x, training), small(x, training))
    for name, value in small.state_dict().items():
        torch.testing.assert_close(twin.state_dict()[name], value, msg=name)


def test_layers_compiled_with_a_training_tensor_has_no_graph_breaks(small, x):
    """A run-time flag selects with torch.where, so it traces without a data-dependent branch."""
    twin = copy.deepcopy(small)
    twin(x)
    compiled = torch.compile(twin, fullgraph=True, backend="eager")
    for flag in (True, False):
        torch.testing.assert_close(compiled(x, torch.tensor(flag)), small(x, flag))
    for name, value in small.state_dict().items():
        torch.testing.assert_close(twin.state_dict()[name], value, msg=name)


@pytest.mark.cuda
def test_cuda_layers_built_after_to_compile_with_inductor_and_match_eager(x):
    """On a GPU: ``.to("cuda")`` before the first pass builds every variable there, and
    Inductor's kernels give eager's outputs and moving statistics (GPU reductions may sum in
    another order, hence the tolerance)."""
    torch.manual_seed(2)
    x = x.cuda()
    small = Small().to("cuda").build(x)
    assert {value.device.type for value in small.state_dict().values()} == {"cuda"}
    twin = copy.deepcopy(small)
    twin(x)
    compiled = torch.compile(twin, fullgraph=True)
    for training in (True, True, False):
        torch.testing.assert_close(compiled(x, training), small(x, training),
                                   rtol=1e-4, atol=1e-4)
    for name, value in small.state_dict().items():
        torch.testing.assert_close(twin.state_dict()[name], value, rtol=1e-4, atol=1e-4,
                                   msg=name)
