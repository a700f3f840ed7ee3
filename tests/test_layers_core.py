"""Layer behaviour the TF references cannot pin: dropout's randomness, dtypes, regularizers and
constraints through the variable store, extra batch dimensions, non-tensor inputs."""

import numpy as np
import pytest
import torch

import torchscope as ts
from torchscope import layers


# --------------------------------------------------------------------------------------------
# dropout

def test_dropout_not_training_returns_the_input_itself():
    x = torch.randn(3, 4)
    assert layers.dropout(x, 0.5) is x
    assert layers.dropout(x, 1.0) is x             # TF accepts rate=1 when not training


def test_dropout_training_zeroes_about_rate_and_scales_the_rest():
    torch.manual_seed(0)
    x = torch.full((100, 100), 3.0)
    y = layers.dropout(x, 0.25, training=True)
    assert set(y.unique().tolist()) == {0.0, 4.0}
    assert abs((y == 0).float().mean().item() - 0.25) < 0.02


def test_dropout_noise_shape_drops_whole_rows():
    torch.manual_seed(0)
    y = layers.dropout(torch.ones(64, 5), 0.5, noise_shape=[None, 1], training=True)
    per_row = {tuple(row.tolist()) for row in y}
    assert per_row == {(0.0,) * 5, (2.0,) * 5}


@pytest.mark.parametrize("flag", [True, False])
def test_dropout_training_tensor_matches_the_python_bool(flag):
    x = torch.ones(50, 50)
    torch.manual_seed(1)
    expected = layers.dropout(x, 0.5, training=flag)
    torch.manual_seed(1)
    torch.testing.assert_close(layers.dropout(x, 0.5, training=torch.tensor(flag)), expected)


def test_dropout_seed_is_ignored_and_torch_seed_reproduces():
    x = torch.ones(20, 20)
    torch.manual_seed(3)
    a = layers.dropout(x, 0.5, seed=1, training=True)
    torch.manual_seed(3)
    b = layers.dropout(x, 0.5, seed=2, training=True)
    assert torch.equal(a, b)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64])
def test_dropout_keeps_the_dtype(dtype):
    assert layers.dropout(torch.ones(4, dtype=dtype), 0.5, training=True).dtype == dtype


# --------------------------------------------------------------------------------------------
# dtypes, inputs

@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_layer_variables_take_the_input_dtype(dtype, store):
    """TF1 layers infer their dtype from the first input (the "_infer" policy)."""
    x = torch.ones(1, 4, 4, 2, dtype=dtype)
    y = layers.dense(layers.flatten(layers.conv2d(x, 3, 2)), 2)
    assert y.dtype == dtype
    assert {store[name].dtype for name in store} == {dtype}


def test_layer_accepts_numpy_input_like_tf(store):
    y = layers.dense(np.ones((2, 3), dtype=np.float32), 4)
    assert isinstance(y, torch.Tensor) and y.shape == (2, 4)


def test_conv_extra_leading_dimensions_are_folded_into_the_batch(store):
    """TF's conv layers accept rank > N + 2 and treat the leading dimensions as batch."""
    x = torch.randn(2, 3, 5, 5, 2)
    y = layers.conv2d(x, 4, 3, padding="same", name="c")
    folded = layers.conv2d(x.reshape(6, 5, 5, 2), 4, 3, padding="same", name="c", reuse=True)
    assert y.shape == (2, 3, 5, 5, 4)
    torch.testing.assert_close(y.reshape(6, 5, 5, 4), folded)


def test_dense_zero_units_like_tf(store):
    assert layers.dense(torch.ones(2, 3), 0).shape == (2, 0)


def test_flatten_of_an_empty_batch(store):
    assert layers.flatten(torch.zeros(0, 2, 3), data_format="channels_first").shape == (0, 6)


# --------------------------------------------------------------------------------------------
# regularizers and constraints

def test_layer_regularizers_are_computed_from_current_values(store):
    layers.dense(torch.ones(2, 3), 2, kernel_initializer=ts.constant_initializer(2.0),
                 kernel_regularizer=ts.regularizers.l2(1.0),
                 bias_regularizer=ts.regularizers.l1(0.5))
    assert ts.get_regularization_loss().item() == pytest.approx(6 * 4 / 2)   # bias is zeros
    with torch.no_grad():
        store["dense/bias"].fill_(1.0)
    assert ts.get_regularization_loss().item() == pytest.approx(12 + 0.5 * 2)


def test_layer_regularizer_adds_to_the_scope_regularizer_as_in_tf(store):
    """TF1 registers both losses for the kernel (the scope's via get_variable, the layer's)."""
    with ts.variable_scope("s", regularizer=ts.regularizers.l1(1.0)):
        layers.dense(torch.ones(2, 3), 2, kernel_initializer=ts.constant_initializer(1.0),
                     bias_initializer=ts.constant_initializer(-1.0),
                     kernel_regularizer=ts.regularizers.l2(2.0))
    kernel_l1, kernel_l2, bias_l1 = 6.0, 2.0 * 6 / 2, 2.0
    assert ts.get_regularization_loss().item() == pytest.approx(kernel_l1 + kernel_l2 + bias_l1)


def test_layer_reuse_does_not_add_the_regularizer_twice(store):
    for reuse in (None, True):
        layers.dense(torch.ones(2, 3), 2, kernel_initializer=ts.constant_initializer(1.0),
                     kernel_regularizer=ts.regularizers.l1(1.0), name="fc", reuse=reuse)
    assert len(ts.get_regularization_losses()) == 1


def test_batch_normalization_regularizers_and_constraints_reach_gamma_and_beta(store):
    clip = lambda w: w.clamp(max=0.5)                        # noqa: E731
    layers.batch_normalization(torch.ones(2, 3), gamma_regularizer=ts.regularizers.l1(1.0),
                               gamma_constraint=clip, beta_constraint=clip)
    assert ts.get_regularization_loss().item() == pytest.approx(3.0)       # |ones|
    store.apply_constraints()
    assert torch.equal(store["batch_normalization/gamma"], torch.full((3,), 0.5))


def test_layer_kernel_constraint_is_recorded_and_applied_by_the_store(store):
    layers.conv1d(torch.ones(1, 4, 2), 2, 2, kernel_initializer=ts.constant_initializer(3.0),
                  kernel_constraint=lambda w: w / w.abs().max())
    assert store.record_of(store["conv1d/kernel"]).constraint is not None
    store.apply_constraints()
    assert torch.equal(store["conv1d/kernel"], torch.ones(2, 2, 2))
