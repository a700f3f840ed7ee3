"""Regularizers: TF1's l1/l2/l1_l2/sum formulas, and how the store collects their losses.

TF1 evaluates a regularizer once, when the variable is created, and keeps the loss tensor in
REGULARIZATION_LOSSES. torchscope keeps the regularizer and computes the loss from the current
value whenever it is asked for (PyTorch re-runs the forward every step), but *which* variables
carry a loss is decided exactly as in TF1: at creation only, never on reuse, and not when the
regularizer returns None. TF's op names ``<var>/Regularizer/...`` become the names the scope
filter of ``get_regularization_losses(scope)`` matches against.
"""

import pytest
import torch

import torchscope as ts
from torchscope import regularizers as tsr

W = torch.tensor([[3.0, -4.0], [0.5, -0.25]])


def losses(scope=None):
    return [loss.item() for loss in ts.get_regularization_losses(scope)]


# --------------------------------------------------------------------------- formulas

@pytest.mark.parametrize("scale", [1.0, 0.01, 2.5])
def test_l1_is_scale_times_sum_of_absolute_values(scale):
    assert tsr.l1(scale)(W).item() == pytest.approx(scale * 7.75)


@pytest.mark.parametrize("scale", [1.0, 0.01, 2.5])
def test_l2_is_half_scale_times_sum_of_squares_like_tf_l2_loss(scale):
    """TF's ``l2_regularizer`` is ``scale * tf.nn.l2_loss(w)`` = ``scale * sum(w**2) / 2``."""
    assert tsr.l2(scale)(W).item() == pytest.approx(scale * (9 + 16 + 0.25 + 0.0625) / 2)


def test_l1_l2_is_sum_of_l1_and_l2():
    assert tsr.l1_l2(0.5, 2.0)(W).item() == pytest.approx(0.5 * 7.75 + 2.0 * 25.3125 / 2)


def test_l1_l2_defaults_are_one_and_one():
    assert tsr.l1_l2()(W).item() == pytest.approx(7.75 + 25.3125 / 2)


@pytest.mark.parametrize("scale_l1, scale_l2, expected", [
    (0.0, 2.0, 2.0 * 25.3125 / 2), (0.5, 0.0, 0.5 * 7.75)])
def test_l1_l2_with_one_zero_scale_is_the_other_alone(scale_l1, scale_l2, expected):
    assert tsr.l1_l2(scale_l1, scale_l2)(W).item() == pytest.approx(expected)


def test_tf1_spellings_are_the_same_regularizers():
    assert tsr.l1_regularizer(0.5)(W).item() == pytest.approx(tsr.l1(0.5)(W).item())
    assert tsr.l2_regularizer(0.5)(W).item() == pytest.approx(tsr.l2(0.5)(W).item())
    assert tsr.l1_l2_regularizer(0.5, 0.25)(W).item() == pytest.approx(
        tsr.l1_l2(0.5, 0.25)(W).item())


def test_sum_regularizer_adds_outputs_and_skips_none():
    summed = tsr.sum_regularizer([tsr.l1(1.0), None, ts.no_regularizer, tsr.l2(1.0)])
    assert summed(W).item() == pytest.approx(7.75 + 25.3125 / 2)


@pytest.mark.parametrize("parts", [[], [None]])
def test_sum_regularizer_of_nothing_is_none(parts):
    """TF1: an empty list (after dropping None) gives no regularizer at all."""
    assert tsr.sum_regularizer(parts) is None


def test_sum_regularizer_whose_parts_all_return_none_returns_none():
    assert tsr.sum_regularizer([ts.no_regularizer, tsr.l2(0.0)])(W) is None


def test_regularizer_outputs_are_differentiable():
    w = W.clone().requires_grad_(True)
    tsr.l2(0.5)(w).backward()
    assert torch.allclose(w.grad, 0.5 * W)


def test_no_regularizer_returns_none():
    assert ts.no_regularizer(W) is None
    assert tsr.no_regularizer is ts.no_regularizer


# --------------------------------------------------------------------------- scales

@pytest.mark.parametrize("make", [lambda: tsr.l1(0.0), lambda: tsr.l2(0.0),
                                  lambda: tsr.l1_l2(0.0, 0.0), lambda: tsr.l2(0)])
def test_zero_scale_disables_the_regularizer(store, make):
    """TF1: "Scale of 0 disables regularizer." — no loss is ever recorded."""
    regularizer = make()
    assert regularizer(W) is None
    ts.get_variable("w", [2], regularizer=regularizer)
    assert ts.get_regularization_losses() == []
    assert store.regularization_losses() == []


@pytest.mark.parametrize("make, shown", [
    (lambda: tsr.l1(-0.1), "-0.1"), (lambda: tsr.l2(-2.5), "-2.5"),
    (lambda: tsr.l1_l2(-1.0, 1.0), "-1"), (lambda: tsr.l1_l2(1.0, -0.5), "-0.5")])
def test_negative_scale_raises(make, shown):
    with pytest.raises(ts.RegularizerError, match=(
            rf"^Setting a scale less than 0 on a regularizer: {shown}\n\nFix: pass scale >= 0\.")):
        make()


@pytest.mark.parametrize("scale", ["0.1", None, True])
def test_non_numeric_scale_raises(scale):
    with pytest.raises(ts.RegularizerError, match=(
            rf"^scale must be a real number, got {scale!r}\.\n\nFix: pass e\.g\. scale=1e-4\.")):
        tsr.l2(scale)


def test_regularizer_error_is_a_value_error():
    with pytest.raises(ValueError):
        tsr.l1(-1.0)


# --------------------------------------------------------------------------- collection

def test_get_regularization_loss_is_zero_when_there_are_no_losses(store):
    ts.get_variable("w", [2])
    total = ts.get_regularization_loss()
    assert isinstance(total, torch.Tensor) and total.item() == 0.0
    assert ts.get_regularization_losses() == []


def test_get_regularization_loss_is_the_total(store):
    ts.get_variable("a", initializer=[1.0, -2.0], regularizer=tsr.l1(1.0))     # 3
    ts.get_variable("b", initializer=[2.0], regularizer=tsr.l2(1.0))           # 2
    ts.get_variable("c", initializer=[5.0])                                    # none
    assert losses() == [3.0, 2.0]
    assert ts.get_regularization_loss().item() == 5.0


def test_losses_follow_current_values_after_in_place_update(store):
    w = ts.get_variable("w", initializer=[3.0, 4.0], regularizer=tsr.l2(1.0))
    assert ts.get_regularization_loss().item() == 12.5
    with torch.no_grad():
        w.mul_(2.0)
    assert ts.get_regularization_loss().item() == 50.0
    assert store.regularization_losses()[0].item() == 50.0


def test_losses_follow_a_gradient_step_and_backpropagate(store):
    w = ts.get_variable("w", initializer=[3.0, 4.0], regularizer=tsr.l2(1.0))
    ts.get_regularization_loss().backward()
    assert torch.equal(w.grad, torch.tensor([3.0, 4.0]))     # d(|w|²/2)/dw = w
    with torch.no_grad():                                    # an SGD step, lr 0.5
        w -= 0.5 * w.grad
    assert ts.get_regularization_loss().item() == pytest.approx((1.5 ** 2 + 2.0 ** 2) / 2)


def test_regularizer_applied_only_at_creation_never_on_reuse(store):
    """§3.1 case 13 (regularizer part): a regularizer passed on reuse is ignored — never even
    called — and adds no loss."""
    calls = []

    def counting(weights):
        calls.append(1)
        return weights.sum()

    with ts.variable_scope("s"):
        w = ts.get_variable("w", initializer=[1.0, 2.0])
    with ts.variable_scope("s", reuse=True):
        assert ts.get_variable("w", [2], regularizer=counting) is w
    with ts.variable_scope("s", reuse=ts.AUTO_REUSE):
        assert ts.get_variable("w", [2], regularizer=counting) is w
    assert calls == [] and losses() == []


def test_regularized_variable_reused_keeps_exactly_one_loss(store):
    with ts.variable_scope("s", regularizer=tsr.l1(1.0)):
        w = ts.get_variable("w", initializer=[1.0, -2.0])
    for _ in range(3):
        with ts.variable_scope("s", reuse=True, regularizer=tsr.l1(10.0)):
            assert ts.get_variable("w", [2]) is w
    assert losses() == [3.0]


def test_regularizer_returning_none_at_creation_records_no_loss(store):
    state = {"on": False}

    def sometimes(weights):
        return weights.sum() if state["on"] else None

    ts.get_variable("w", [2], regularizer=sometimes)
    state["on"] = True
    assert losses() == []


def test_regularizer_that_raises_leaves_no_variable(store):
    def broken(weights):
        raise ArithmeticError("boom")

    with pytest.raises(ArithmeticError, match="boom"):
        ts.get_variable("w", [2], regularizer=broken)
    assert "w" not in store and len(store) == 0 and losses() == []
    ts.get_variable("w", [2])                     # the name is free again


# --------------------------------------------------------------------------- scope filtering

@pytest.fixture
def three_scopes(store):
    with ts.variable_scope("foo"):
        ts.get_variable("a", initializer=[1.0], regularizer=tsr.l1(1.0))
    with ts.variable_scope("foo_bar"):
        ts.get_variable("b", initializer=[2.0], regularizer=tsr.l1(1.0))
    with ts.variable_scope("other"):
        ts.get_variable("c", initializer=[4.0], regularizer=tsr.l1(1.0))
    return store


@pytest.mark.parametrize("scope, expected", [
    (None, [1.0, 2.0, 4.0]),
    ("foo", [1.0, 2.0]),          # a regex prefix match, as TF1's get_collection: foo_bar too
    ("foo/", [1.0]),
    ("foo_bar", [2.0]),
    ("other/c", [4.0]),
    ("f.o/", [1.0]),              # the scope is a regular expression
    ("bar", []),                  # re.match: anchored at the start
    ("nothing", []),
])
def test_get_regularization_losses_scope_filter(three_scopes, scope, expected):
    assert losses(scope) == expected
    assert [loss.item() for loss in three_scopes.regularization_losses(scope)] == expected
    assert ts.get_regularization_loss(scope).item() == sum(expected)


def test_manually_added_losses_are_included(store):
    """TF1 code adds its own losses to REGULARIZATION_LOSSES; they count in the total."""
    ts.get_variable("w", initializer=[2.0], regularizer=tsr.l1(1.0))
    ts.add_to_collection(ts.GraphKeys.REGULARIZATION_LOSSES, torch.tensor(0.5))
    assert sorted(losses()) == [0.5, 2.0]
    assert ts.get_regularization_loss().item() == 2.5


def test_losses_belong_to_their_store(store):
    ts.get_variable("w", initializer=[2.0], regularizer=tsr.l1(1.0))
    with ts.ScopedParameterStore().as_default():
        ts.get_variable("w", initializer=[7.0], regularizer=tsr.l1(1.0))
        assert losses() == [7.0]
    assert losses() == [2.0]


def test_partitioned_variable_total_equals_whole_variable_loss(store):
    """The variable is stored whole; its l2 loss equals the sum of TF1's per-shard losses."""
    w = ts.get_variable("w", [7, 3], partitioner=ts.fixed_size_partitioner(3),
                        regularizer=tsr.l2(0.1))
    assert ts.get_regularization_loss().item() == pytest.approx(
        0.1 * (w.detach() ** 2).sum().item() / 2)
