"""``batch_normalization`` beyond TF's reference numbers: the in-place update of the moving
statistics, ``training`` as a tensor, autograd around the update, and dtypes."""

import pytest
import torch

import torchscope as ts
from torchscope import layers


@pytest.fixture
def x():
    torch.manual_seed(0)
    return torch.randn(8, 3, 3, 4) * 2 + 1


def test_batch_normalization_training_updates_the_same_moving_objects_in_place(x, store):
    layers.batch_normalization(x, training=False)
    mean = store["batch_normalization/moving_mean"]
    variance = store["batch_normalization/moving_variance"]
    layers.batch_normalization(x, training=True, name="batch_normalization", reuse=True)
    assert store["batch_normalization/moving_mean"] is mean
    assert store["batch_normalization/moving_variance"] is variance
    torch.testing.assert_close(mean, 0.01 * x.mean((0, 1, 2)))
    # rank 4, channels last: TF's fused kernel, so the unbiased batch variance
    torch.testing.assert_close(variance, 0.99 + 0.01 * x.var((0, 1, 2), correction=1))
    assert mean.grad_fn is None and variance.grad_fn is None and not mean.requires_grad


def test_batch_normalization_inference_leaves_the_moving_statistics_alone(x, store):
    layers.batch_normalization(x, training=False)
    layers.batch_normalization(x, name="batch_normalization", reuse=True)   # default: False
    assert torch.equal(store["batch_normalization/moving_mean"], torch.zeros(4))
    assert torch.equal(store["batch_normalization/moving_variance"], torch.ones(4))


@pytest.mark.parametrize("flag", [True, False])
def test_batch_normalization_training_tensor_matches_the_python_bool(x, flag):
    outputs, stats = [], []
    for training in (flag, torch.tensor(flag)):
        with ts.ScopedParameterStore().as_default():
            outputs.append(layers.batch_normalization(x, training=training))
            stats.append(ts.get_default_store().state_dict())
    torch.testing.assert_close(outputs[1], outputs[0])
    for name in stats[0]:
        torch.testing.assert_close(stats[1][name], stats[0][name], msg=name)


@pytest.mark.parametrize("training", [True, torch.tensor(True), torch.tensor(False), False])
def test_batch_normalization_backward_after_the_in_place_update(x, training, store):
    """The update must not invalidate tensors autograd saved, nor enter the graph."""
    x = x.clone().requires_grad_(True)
    y = layers.batch_normalization(x, training=training)
    (y * torch.arange(4.0)).sum().backward()
    assert x.grad is not None and store["batch_normalization/gamma"].grad is not None
    assert store["batch_normalization/moving_mean"].grad is None


def test_batch_normalization_training_output_has_zero_mean_and_unit_variance(x, store):
    y = layers.batch_normalization(x, training=True, epsilon=0.0)
    torch.testing.assert_close(y.mean((0, 1, 2)), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var((0, 1, 2), correction=0), torch.ones(4), atol=1e-4, rtol=0)


def test_batch_normalization_channels_first_equals_channels_last_transposed(x):
    with ts.ScopedParameterStore().as_default():
        last = layers.batch_normalization(x, training=True)
    with ts.ScopedParameterStore().as_default():
        first = layers.batch_normalization(x.permute(0, 3, 1, 2), axis=1, training=True)
    torch.testing.assert_close(first.permute(0, 2, 3, 1), last)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_batch_normalization_half_input_keeps_float32_variables_and_math(x, dtype, store):
    """TF raises the parameters of 16-bit batch norm to float32 and computes in float32."""
    y = layers.batch_normalization(x.to(dtype), training=True)
    assert y.dtype == dtype
    assert {store[name].dtype for name in store} == {torch.float32}
    with ts.ScopedParameterStore().as_default():
        reference = layers.batch_normalization(x.to(dtype).float(), training=True)
    torch.testing.assert_close(y.float(), reference, atol=1e-2, rtol=1e-2)


def test_batch_normalization_float64_input_makes_float64_variables(x, store):
    y = layers.batch_normalization(x.double(), training=True)
    assert y.dtype == torch.float64
    assert {store[name].dtype for name in store} == {torch.float64}


def test_batch_normalization_multi_axis_keeps_a_parameter_per_kept_position(x, store):
    y = layers.batch_normalization(x, axis=[1, 2], training=True)
    assert tuple(store["batch_normalization/gamma"].shape) == (1, 3, 3, 1)
    torch.testing.assert_close(y.mean((0, 3)), torch.zeros(3, 3), atol=1e-5, rtol=0)
