"""Initializers against TF's formulas (reference §4): fans, bounds and spreads.

The expected values are written out here from TF's ``init_ops.py`` (``_compute_fans``,
``VarianceScaling``, ``truncated_normal``, ...), never taken from torchscope. Statistical checks
use sample-size-derived tolerances (5 standard errors) and fixed seeds, so they cannot flake:

* a uniform on ``[-L, L]`` must stay within ``L`` and, with ``n`` draws, come within
  ``L * 30 / n`` of it (the chance of missing is ``e**-30``), which pins ``L``;
* a ±2σ truncated normal must stay within ``2σ`` and come within ``30 / (0.1131 n)`` σ of it
  (0.1131 = the truncated density at the cut, both sides), which pins σ to well under 1 %;
* variances are compared to their expectation within 5 standard errors, estimated from the
  sample itself.
"""

import functools
import math

import numpy as np
import pytest
import torch

import torchscope as ts
from torchscope import initializers as tsi

TRUNC_STD = 0.87962566103423978   # std of N(0, 1) truncated to ±2 (scipy truncnorm.std(-2, 2))
EDGE_DENSITY = 0.1131             # 2 * phi(2) / (Phi(2) - Phi(-2)): density at the cut

# TF-layout shapes with enough elements for tight statistics: a bias, a dense [in, out] kernel
# (in != out, so fan_in and fan_out differ), an HWIO conv kernel.
SHAPES = {"1d": [20000], "2d": [200, 300], "4d": [3, 3, 32, 64]}


def tf_fans(shape):
    """TF's ``_compute_fans``, written out independently of torchscope."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def tf_variance(scale, mode, shape):
    fan_in, fan_out = tf_fans(shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    return scale / max(1.0, fan)


def _f64(t):
    return t.detach().to(torch.float64).reshape(-1)


def assert_variance(x, expected):
    """Sample variance within 5 standard errors of ``expected`` (SE from the sample)."""
    x = _f64(x)
    centred = (x - x.mean()) ** 2
    se = centred.std().item() / math.sqrt(x.numel())
    assert abs(centred.mean().item() - expected) <= 5 * se, (centred.mean().item(), expected, se)


def assert_mean(x, expected):
    x = _f64(x)
    se = x.std().item() / math.sqrt(x.numel())
    assert abs(x.mean().item() - expected) <= 5 * se + 1e-12, (x.mean().item(), expected, se)


def assert_uniform(x, low, high, rel=1e-6):
    """Inside [low, high] (to ``rel`` for the dtype's rounding), reaching both ends (to 30/n of
    the width), with the uniform's mean and spread."""
    x = _f64(x)
    n, width = x.numel(), high - low
    slack = rel * max(abs(low), abs(high))
    assert x.min().item() >= low - slack and x.max().item() <= high + slack
    assert x.min().item() <= low + width * 30 / n + slack
    assert x.max().item() >= high - width * 30 / n - slack
    assert_mean(x, (low + high) / 2)
    assert_variance(x, width ** 2 / 12)


def assert_symmetric_uniform(x, limit, rel=1e-6):
    assert_uniform(x, -limit, limit, rel)


def assert_truncated_normal(x, mean, sigma):
    """N(mean, sigma²) cut at ±2σ: never beyond, reaching the cut, std 0.8796 σ."""
    x = _f64(x)
    n = x.numel()
    eps = 1e-6  # float32 rounding of z * sigma + mean
    dev = (x - mean).abs().max().item()
    assert dev <= 2 * sigma * (1 + eps) + eps * abs(mean), (dev, 2 * sigma)
    assert dev >= sigma * (2 - 30 / (EDGE_DENSITY * n)), (dev, 2 * sigma)
    assert_mean(x, mean)
    assert_variance(x, (TRUNC_STD * sigma) ** 2)


def assert_untruncated_normal(x, sigma):
    x = _f64(x)
    assert_mean(x, 0.0)
    assert_variance(x, sigma ** 2)
    # P(|z| > 2.5) = 1.2 %: thousands of such draws in every sample used here.
    assert x.abs().max().item() > 2.5 * sigma


# --------------------------------------------------------------------------- fans

@pytest.mark.parametrize("shape, fans", [
    ([], (1, 1)),
    ([50], (50, 50)),
    ([20, 30], (20, 30)),
    ([3, 3, 8, 16], (72, 144)),          # HWIO: receptive field 9 times in / out
    ([2, 3, 4, 5, 6], (120, 144)),
    ([5, 0], (5, 0)),
])
def test_compute_fans_follows_tf_layout_rule(shape, fans):
    """TF's ``_compute_fans``: [] → 1/1, [n] → n/n, [in, out], [*spatial, in, out] (not torch's
    [out, in, *spatial], which gives 384/384 for [3, 3, 8, 16])."""
    assert tsi.compute_fans(shape) == fans


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling_zero_fan_is_guarded_by_max_one(mode, distribution):
    """``scale /= max(1., fan)``: a shape with a zero dimension (fan 0) initialises, empty."""
    out = tsi.VarianceScaling(2.0, mode, distribution, seed=1)([5, 0])
    assert tuple(out.shape) == (5, 0)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
def test_variance_scaling_zero_fan_of_full_shape_uses_scale_unchanged(mode):
    """The guard seen on values: fans come from ``partition_info.full_shape`` (here with a zero
    dimension, so every fan is 0 and max(1, fan) = 1), the samples from ``shape``."""
    info = ts.PartitionInfo(full_shape=[0, 0], var_offset=[0, 0])
    out = tsi.VarianceScaling(3.0, mode, "uniform", seed=2)([20000], partition_info=info)
    assert_symmetric_uniform(out, math.sqrt(3 * 3.0))


# --------------------------------------------------------------------------- variance scaling

@pytest.mark.parametrize("shape_key", sorted(SHAPES))
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "normal", "untruncated_normal",
                                          "uniform"])
def test_variance_scaling_matches_tf_bounds_and_spread(shape_key, mode, distribution):
    """VarianceScaling(scale, mode, distribution): variance scale / max(1, fan) with TF's fans;
    "truncated_normal" (and its alias "normal") samples N(0, σ²) cut at ±2σ with
    σ = √var / 0.8796 so the result has exactly the variance; "untruncated_normal" is N(0, var);
    "uniform" is U(±√(3 var))."""
    shape, scale = SHAPES[shape_key], 1.7
    var = tf_variance(scale, mode, shape)
    out = tsi.VarianceScaling(scale, mode, distribution, seed=11)(shape)
    assert tuple(out.shape) == tuple(shape) and out.dtype == torch.float32
    if distribution in ("truncated_normal", "normal"):
        assert_truncated_normal(out, 0.0, math.sqrt(var) / TRUNC_STD)
        assert_variance(out, var)            # the 0.8796 correction restores the variance
    elif distribution == "untruncated_normal":
        assert_untruncated_normal(out, math.sqrt(var))
    else:
        assert_symmetric_uniform(out, math.sqrt(3 * var))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_variance_scaling_honours_call_dtype(dtype):
    out = tsi.VarianceScaling(1.0, "fan_avg", "uniform", seed=3)([300, 400], dtype=dtype)
    assert out.dtype == dtype
    assert_symmetric_uniform(out, math.sqrt(6 / 700), rel=torch.finfo(dtype).eps)


def test_variance_scaling_default_is_fan_in_truncated_normal_scale_one():
    """TF1 defaults: scale=1.0, mode="fan_in", distribution="truncated_normal"."""
    out = tsi.VarianceScaling(seed=4)([300, 400])
    assert_truncated_normal(out, 0.0, math.sqrt(1 / 300) / TRUNC_STD)


def test_variance_scaling_shards_use_full_shape_fans(store):
    """A (1000, 10) variable split in 4 is initialised with the fans of the whole (1000, 10):
    glorot limit √(6/1010), not the shard's √(6/260) (verified in TF, §1.16)."""
    torch.manual_seed(0)
    w = ts.get_variable("w", [1000, 10], partitioner=ts.fixed_size_partitioner(4))
    assert tuple(w.shape) == (1000, 10)
    assert_symmetric_uniform(w, math.sqrt(6 / 1010))


# --------------------------------------------------------------------------- named schemes

def _named(name, seed):
    return {
        "glorot_uniform": lambda: tsi.glorot_uniform(seed=seed),
        "glorot_normal": lambda: tsi.glorot_normal(seed=seed),
        "xavier_uniform": lambda: tsi.xavier_uniform(seed=seed),
        "xavier_normal": lambda: tsi.xavier_normal(seed=seed),
        "he_uniform": lambda: tsi.he_uniform(seed=seed),
        "he_normal": lambda: tsi.he_normal(seed=seed),
        "lecun_uniform": lambda: tsi.lecun_uniform(seed=seed),
        "lecun_normal": lambda: tsi.lecun_normal(seed=seed),
        "glorot_uniform_initializer": lambda: ts.glorot_uniform_initializer(seed=seed),
        "glorot_normal_initializer": lambda: ts.glorot_normal_initializer(seed=seed),
    }[name]()


# name -> (scale, mode, uniform?) as TF/Keras define them
NAMED = {
    "glorot_uniform": (1.0, "fan_avg", True),
    "glorot_normal": (1.0, "fan_avg", False),
    "xavier_uniform": (1.0, "fan_avg", True),
    "xavier_normal": (1.0, "fan_avg", False),
    "he_uniform": (2.0, "fan_in", True),
    "he_normal": (2.0, "fan_in", False),
    "lecun_uniform": (1.0, "fan_in", True),
    "lecun_normal": (1.0, "fan_in", False),
    "glorot_uniform_initializer": (1.0, "fan_avg", True),
    "glorot_normal_initializer": (1.0, "fan_avg", False),
}


@pytest.mark.parametrize("shape_key", sorted(SHAPES))
@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_initializer_matches_tf_formula(name, shape_key):
    """glorot_uniform: U(±√(6/(fan_in+fan_out))); glorot_normal: truncated, var 2/(in+out);
    he_*: var 2/fan_in; lecun_*: var 1/fan_in; the normals are truncated with the 0.8796
    correction."""
    scale, mode, uniform = NAMED[name]
    shape = SHAPES[shape_key]
    var = tf_variance(scale, mode, shape)
    out = _named(name, seed=21)(shape)
    if uniform:
        assert_symmetric_uniform(out, math.sqrt(3 * var))
    else:
        assert_truncated_normal(out, 0.0, math.sqrt(var) / TRUNC_STD)


def test_glorot_uniform_hwio_limit_uses_tf_fans_not_torch_fans():
    """[3, 3, 8, 16]: TF fans 72/144 → limit √(6/216) = 0.1667; torch's rule would give
    √(6/768) = 0.088. 1152 draws per call, 20 calls."""
    draws = torch.cat([tsi.glorot_uniform(seed=s)([3, 3, 8, 16]).reshape(-1) for s in range(20)])
    assert_symmetric_uniform(draws, math.sqrt(6 / 216))


def test_glorot_uniform_scalar_uses_fans_one():
    """A scalar has fans 1/1: limit √3 (TF verified observed max 1.7159 over 40 draws)."""
    draws = torch.stack([tsi.glorot_uniform(seed=s)([]) for s in range(3000)])
    assert_symmetric_uniform(draws, math.sqrt(3))


# --------------------------------------------------------------------------- uniform_unit_scaling

@pytest.mark.parametrize("shape, input_size", [
    ([400, 300], 400),                 # TF verified: limit 0.0866
    ([3, 3, 64, 128], 3 * 3 * 64),
    ([20000], 1),                      # prod([]) → max(…, 1)
])
@pytest.mark.parametrize("factor", [1.0, 1.43])
def test_uniform_unit_scaling_limit_is_factor_sqrt_3_over_input_size(shape, input_size, factor):
    out = tsi.uniform_unit_scaling(factor, seed=5)(shape)
    assert_symmetric_uniform(out, factor * math.sqrt(3 / input_size))


def test_uniform_unit_scaling_tf1_spelling_defaults_factor_one():
    out = ts.uniform_unit_scaling_initializer(seed=6)([400, 300])
    assert_symmetric_uniform(out, math.sqrt(3 / 400))


# -------------------------------------------------------------------------- random uniform, normal

def test_random_uniform_defaults_to_zero_one_for_floats():
    """TF1: ``random_uniform_initializer(minval=0, maxval=None)`` → [0, 1) for floats."""
    out = ts.random_uniform_initializer(seed=7)([50000])
    assert_uniform(out, 0.0, 1.0)
    assert out.max().item() < 1.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("low, high", [(-3.0, 5.0), (0.25, 0.5)])
def test_random_uniform_given_bounds(low, high, dtype):
    out = tsi.random_uniform(low, high, seed=8)([50000], dtype=dtype)
    assert out.dtype == dtype
    assert_uniform(out, low, high)


def test_random_uniform_integer_dtype_draws_in_half_open_range():
    out = tsi.random_uniform(-2, 3, seed=9)([20000], dtype=torch.int32)
    assert out.dtype == torch.int32
    assert set(out.unique().tolist()) == {-2, -1, 0, 1, 2}


def test_random_uniform_integer_dtype_without_maxval_raises():
    with pytest.raises(ts.InitializerError, match=r"^Must specify maxval for integer dtype"):
        tsi.random_uniform()([3], dtype=torch.int32)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("mean, stddev", [(0.0, 1.0), (3.0, 0.5), (-2.0, 10.0)])
def test_random_normal_mean_and_stddev(mean, stddev, dtype):
    out = ts.random_normal_initializer(mean, stddev, seed=10)([50000], dtype=dtype)
    assert out.dtype == dtype
    assert_mean(out, mean)
    assert_variance(out, stddev ** 2)
    assert (out - mean).abs().max().item() > 2.5 * stddev   # not truncated


def test_random_normal_defaults_are_zero_one():
    out = ts.random_normal_initializer(seed=12)([50000])
    assert_mean(out, 0.0)
    assert_variance(out, 1.0)


# --------------------------------------------------------------------------- truncated normal

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("mean, stddev", [(0.0, 1.0), (3.0, 0.5), (-2.0, 10.0), (0.0, 0.02)])
def test_truncated_normal_never_exceeds_two_sigma_and_is_not_rescaled(mean, stddev, dtype):
    """TF re-draws samples beyond mean ± 2·stddev; TF1's ``truncated_normal_initializer`` does
    not compensate, so the std is 0.8796·stddev. One million draws."""
    out = ts.truncated_normal_initializer(mean, stddev, seed=13)([500, 500], dtype=dtype)
    assert out.dtype == dtype
    assert_truncated_normal(out, mean, stddev)


def test_truncated_normal_defaults_are_zero_one():
    assert_truncated_normal(ts.truncated_normal_initializer(seed=14)([200000]), 0.0, 1.0)


def test_truncated_normal_initializer_std_differs_from_variance_scaling_std():
    """The 0.8796 correction: VarianceScaling's truncated normal has exactly the requested
    variance, TF1's truncated_normal_initializer(stddev=s) has (0.8796 s)²."""
    s = 0.1
    plain = ts.truncated_normal_initializer(0.0, s, seed=15)([300, 400])
    scaled = tsi.VarianceScaling(s * s * 300, "fan_in", "truncated_normal", seed=15)([300, 400])
    assert_variance(plain, (TRUNC_STD * s) ** 2)
    assert_variance(scaled, s ** 2)


# --------------------------------------------------------------------------- orthogonal

@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
@pytest.mark.parametrize("shape", [[50, 20], [20, 50], [16, 16], [3, 3, 4, 8], [2, 3, 40]])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_is_semi_orthogonal_times_gain(shape, gain, dtype, tol):
    """TF flattens to prod(shape[:-1]) × shape[-1]: a tall matrix has orthonormal columns
    (QᵀQ = I), a wide one orthonormal rows (QQᵀ = I), both scaled by gain."""
    out = ts.orthogonal_initializer(gain, seed=16)(shape, dtype=dtype)
    assert tuple(out.shape) == tuple(shape) and out.dtype == dtype
    flat = out.reshape(-1, shape[-1]).to(torch.float64)
    rows, cols = flat.shape
    gram = flat.T @ flat if rows >= cols else flat @ flat.T
    eye = torch.eye(min(rows, cols), dtype=torch.float64)
    assert torch.allclose(gram, gain ** 2 * eye, atol=tol * gain ** 2 * 10)


def test_orthogonal_seed_reproducible_and_distinct():
    init = ts.orthogonal_initializer(seed=17)
    assert torch.equal(init([8, 8]), init([8, 8]))
    assert not torch.equal(init([8, 8]), ts.orthogonal_initializer(seed=18)([8, 8]))


@pytest.mark.parametrize("shape", [[3], []])
def test_orthogonal_rank_below_two_raises(shape):
    """TF1's sentence (TF 2.21 appends the shape to it)."""
    with pytest.raises(ts.InitializerError, match=(
            r"^The tensor to initialize must be at least two-dimensional\n\nFix: ")):
        ts.orthogonal_initializer()(shape)


# --------------------------------------------------------------------------- identity

@pytest.mark.parametrize("shape", [[3, 3], [2, 4], [4, 2]])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_identity_is_gain_times_eye(shape, gain):
    out = tsi.identity(gain)(shape)
    expected = torch.zeros(shape)
    for i in range(min(shape)):
        expected[i, i] = gain
    assert torch.equal(out, expected)


@pytest.mark.parametrize("shape", [[3], [3, 3, 3]])
def test_identity_non_matrix_shape_raises(shape):
    """TF1's sentence (TF 2.21 reuses orthogonal's "at least two-dimensional" text, which is
    wrong for rank 3)."""
    with pytest.raises(ts.InitializerError, match=(
            r"^Identity matrix initializer can only be used for 2D matrices\.\n\nFix: ")):
        tsi.identity()(shape)


def test_identity_partitioned_variable_is_whole_identity(store):
    """TF1 slices the full identity for each shard (``partition_info.var_offset``), so the
    assembled variable is the identity matrix."""
    w = ts.get_variable("w", [5, 3], initializer=tsi.identity(),
                        partitioner=ts.fixed_size_partitioner(2))
    assert torch.equal(w.detach(), torch.eye(5, 3))


# --------------------------------------------------------------------------- constant

def test_constant_scalar_broadcasts():
    assert ts.constant_initializer(0.3)([2, 3]).tolist() == [[pytest.approx(0.3)] * 3] * 2


def test_constant_short_list_is_padded_with_last_value():
    """TF1: ``constant_initializer([1, 2])`` on [2, 3] → [[1, 2, 2], [2, 2, 2]]."""
    assert ts.constant_initializer([1, 2])([2, 3]).tolist() == [[1.0, 2.0, 2.0], [2.0, 2.0, 2.0]]


@pytest.mark.parametrize("value", [
    [[1, 2, 3], [4, 5, 6]], np.arange(1, 7).reshape(2, 3), torch.arange(1, 7).reshape(2, 3)])
def test_constant_full_value_keeps_its_layout(value):
    out = ts.constant_initializer(value)([2, 3])
    assert out.dtype == torch.float32
    assert out.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_constant_too_many_elements_raises_tf_message():
    with pytest.raises(ts.InitializerError, match=(
            r"^Too many elements provided\. Takes at most 6, but got 7\.\n\nFix: ")):
        ts.constant_initializer([1, 2, 3, 4, 5, 6, 7])([2, 3])


def test_constant_verify_shape_accepts_exact_shape():
    init = ts.constant_initializer([[1, 2, 3], [4, 5, 6]], verify_shape=True)
    assert init([2, 3]).tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_constant_verify_shape_mismatch_raises_type_error():
    """TF1's ``make_tensor_proto`` raises ``TypeError("Expected Tensor's shape: (2, 3), got
    (3,).")`` (TF 1.15 wording; TF 2.21 says "but got"): ported ``except TypeError`` must
    catch it."""
    with pytest.raises(TypeError, match=r"^Expected Tensor's shape: \(2, 3\), got \(3,\)\."):
        ts.constant_initializer([1, 2, 3], verify_shape=True)([2, 3])


@pytest.mark.parametrize("dtype, expected", [(torch.int32, [7, 7]), (torch.float64, [7.0, 7.0]),
                                              (torch.bool, [True, True])])
def test_constant_honours_dtype(dtype, expected):
    out = ts.constant_initializer(7)([2], dtype=dtype)
    assert out.dtype == dtype and out.tolist() == expected


def test_constant_initializer_on_scope_is_used_by_get_variable(store):
    """§3.5 case 56: a scope's ``initializer=constant(0.3)`` initialises its variables, also on
    re-entry by object."""
    with ts.variable_scope("tower0") as tower:
        with ts.variable_scope("foo", initializer=ts.constant_initializer(0.3)):
            v = ts.get_variable("v", [])
    with ts.variable_scope(tower, initializer=ts.constant_initializer(0.3)):
        w = ts.get_variable("w", [])
    assert v.item() == pytest.approx(0.3) and w.item() == pytest.approx(0.3)


# --------------------------------------------------------------------------- zeros / ones

@pytest.mark.parametrize("dtype, zero, one", [
    (torch.float32, 0.0, 1.0), (torch.float64, 0.0, 1.0), (torch.int32, 0, 1),
    (torch.int64, 0, 1), (torch.uint8, 0, 1), (torch.bool, False, True)])
def test_zeros_and_ones_for_every_dtype(store, dtype, zero, one):
    z = ts.get_variable("z", [2, 3], dtype=dtype, initializer=ts.zeros_initializer())
    o = ts.get_variable("o", [2, 3], dtype=dtype, initializer=ts.ones_initializer())
    assert z.dtype == dtype and o.dtype == dtype
    assert z.tolist() == [[zero] * 3] * 2 and o.tolist() == [[one] * 3] * 2
    assert tsi.zeros(dtype=dtype)([4]).dtype == dtype      # constructor dtype is the default


# --------------------------------------------------------------------------- seeds

SEEDED = {
    "random_uniform": lambda seed: tsi.random_uniform(-1, 1, seed=seed),
    "random_normal": lambda seed: tsi.random_normal(seed=seed),
    "truncated_normal": lambda seed: tsi.truncated_normal(seed=seed),
    "variance_scaling": lambda seed: tsi.variance_scaling(seed=seed),
    "glorot_uniform": lambda seed: tsi.glorot_uniform(seed=seed),
    "he_normal": lambda seed: tsi.he_normal(seed=seed),
    "uniform_unit_scaling": lambda seed: tsi.uniform_unit_scaling(seed=seed),
    "orthogonal": lambda seed: tsi.orthogonal(seed=seed),
}


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_seed_gives_reproducible_values_independent_of_global_rng(name):
    make = SEEDED[name]
    torch.manual_seed(0)
    a = make(5)([30, 20])
    torch.manual_seed(1)
    b = make(5)([30, 20])
    b_again = make(5)([30, 20])
    assert torch.equal(a, b) and torch.equal(a, b_again)
    assert not torch.equal(a, make(6)([30, 20]))


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_unseeded_values_follow_torch_manual_seed(name):
    make = SEEDED[name]
    torch.manual_seed(123)
    a = make(None)([30, 20])
    b = make(None)([30, 20])
    torch.manual_seed(123)
    assert torch.equal(make(None)([30, 20]), a)
    assert not torch.equal(a, b)


# --------------------------------------------------------------------------- constructor errors

@pytest.mark.parametrize("scale", [0.0, -1.0])
def test_variance_scaling_non_positive_scale_raises(scale):
    with pytest.raises(ts.InitializerError, match=(
            rf"^Argument `scale` must be a positive float\. Received: {scale}\n\n"
            r"Fix: pass scale > 0\.")):
        tsi.VarianceScaling(scale)


def test_variance_scaling_bad_mode_raises():
    with pytest.raises(ts.InitializerError, match=(
            r"^Argument `mode` should be one of \('fan_in', 'fan_out', 'fan_avg'\)\. "
            r"Received: fan_x\n\nFix: pass mode='fan_in', 'fan_out' or 'fan_avg'\.")):
        tsi.VarianceScaling(1.0, "fan_x")


def test_variance_scaling_bad_distribution_raises():
    with pytest.raises(ts.InitializerError, match=(
            r"^Argument `distribution` should be one of \(.*'truncated_normal', "
            r"'untruncated_normal'\)\. Received: gaussian\n\nFix: pass distribution=")):
        tsi.VarianceScaling(1.0, "fan_in", "gaussian")


def test_initializer_errors_are_value_errors():
    with pytest.raises(ValueError):
        tsi.VarianceScaling(-1.0)


@pytest.mark.parametrize("make", [
    lambda: tsi.VarianceScaling(dtype=torch.int32),
    lambda: tsi.truncated_normal(dtype=torch.int32),
    lambda: tsi.random_normal(dtype=torch.int32),
    lambda: tsi.orthogonal(dtype=torch.int32),
    lambda: tsi.uniform_unit_scaling(dtype=torch.int32),
    lambda: tsi.glorot_uniform(dtype=torch.int32),
])
def test_float_only_initializer_with_integer_dtype_raises_at_construction(make):
    """TF1's ``_assert_float_dtype``."""
    with pytest.raises(ts.InitializerError, match=(
            r"^Argument `dtype` is expected to be floating point\. Received: "
            r"<dtype: 'int32'>\.")):
        make()


@pytest.mark.parametrize("init", [tsi.glorot_uniform(), tsi.truncated_normal(),
                                  tsi.random_normal(), tsi.orthogonal()])
def test_float_only_initializer_for_integer_variable_raises_initializer_error(store, init):
    """TF1 refuses to draw a float distribution into an int variable; so must we, with our
    error (not a raw torch error, and not by silently truncating floats to ints)."""
    with pytest.raises(ts.InitializerError, match=r"expected to be floating point"):
        ts.get_variable("w", [4, 4], dtype=torch.int32, initializer=init)
    assert "w" not in store


# --------------------------------------------------------------------------- get_variable

TF1_SPELLINGS = [
    "constant_initializer", "glorot_normal_initializer", "glorot_uniform_initializer",
    "ones_initializer", "orthogonal_initializer", "random_normal_initializer",
    "random_uniform_initializer", "truncated_normal_initializer",
    "uniform_unit_scaling_initializer", "variance_scaling_initializer", "zeros_initializer",
]


@pytest.mark.parametrize("as_class", [True, False], ids=["class", "instance"])
@pytest.mark.parametrize("name", TF1_SPELLINGS)
def test_tf1_spelling_usable_as_class_or_instance_in_get_variable(store, name, as_class):
    """§3.6 case 74: ``initializer=tf.compat.v1.zeros_initializer`` (the class) is instantiated
    with no arguments; an instance is called with the shape and dtype."""
    spelling = getattr(ts, name)
    init = spelling if as_class else spelling()
    w = ts.get_variable("w", [6, 5], dtype=torch.float64, initializer=init)
    assert tuple(w.shape) == (6, 5) and w.dtype == torch.float64
    assert bool(torch.isfinite(w).all())
    if name == "zeros_initializer" or name == "constant_initializer":
        assert not w.detach().any()                # Constant() defaults to 0, as in TF1
    elif name == "ones_initializer":
        assert bool((w == 1).all())
    else:
        assert w.detach().std().item() > 0


def test_torch_inplace_xavier_uniform_accepted(store):
    """A ``torch.nn.init`` in-place function fills a new tensor of the variable's shape."""
    torch.manual_seed(1)
    w = ts.get_variable("w", [300, 400], initializer=torch.nn.init.xavier_uniform_)
    assert isinstance(w, torch.nn.Parameter) and w.requires_grad
    assert_symmetric_uniform(w, math.sqrt(6 / 700))


def test_torch_inplace_partial_normal_accepted(store):
    torch.manual_seed(2)
    w = ts.get_variable("w", [300, 400], dtype=torch.float64,
                        initializer=functools.partial(torch.nn.init.normal_, std=0.02))
    assert w.dtype == torch.float64
    assert_mean(w, 0.0)
    assert_variance(w, 0.02 ** 2)


def test_torch_inplace_constant_accepted(store):
    w = ts.get_variable("w", [2, 2], initializer=functools.partial(torch.nn.init.constant_,
                                                                  val=0.5))
    assert w.tolist() == [[0.5, 0.5], [0.5, 0.5]]


@pytest.mark.parametrize("shape_key", sorted(SHAPES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_get_variable_default_initializer_is_glorot_uniform_for_floats(store, shape_key, dtype):
    torch.manual_seed(3)
    shape = SHAPES[shape_key]
    w = ts.get_variable("w", shape, dtype=dtype)
    fan_in, fan_out = tf_fans(shape)
    assert w.dtype == dtype
    assert_symmetric_uniform(w, math.sqrt(6 / (fan_in + fan_out)))


@pytest.mark.parametrize("dtype", [torch.int8, torch.uint8, torch.int16, torch.int32,
                                   torch.int64, torch.bool])
def test_get_variable_default_initializer_is_zeros_for_ints_and_bool(store, dtype):
    """§3.6 case 67: the default for integer and bool variables equals ``zeros_initializer``."""
    v = ts.get_variable("v", [3, 4], dtype=dtype)
    expected = ts.zeros_initializer()([3, 4], dtype=dtype)
    assert v.dtype == dtype and torch.equal(v.detach(), expected)
    assert not v.requires_grad


# --------------------------------------------------------------------------- placement

PLACED = {
    "default": None,
    "glorot_uniform_seeded": lambda: ts.glorot_uniform_initializer(seed=1),
    "glorot_normal": lambda: ts.glorot_normal_initializer(),
    "he_normal_seeded": lambda: tsi.he_normal(seed=2),
    "truncated_normal": lambda: ts.truncated_normal_initializer(),
    "random_normal": lambda: ts.random_normal_initializer(),
    "random_uniform_seeded": lambda: ts.random_uniform_initializer(seed=3),
    "uniform_unit_scaling": lambda: ts.uniform_unit_scaling_initializer(),
    "orthogonal_seeded": lambda: ts.orthogonal_initializer(seed=4),
    "constant": lambda: ts.constant_initializer([1.0, 2.0]),
    "zeros": lambda: ts.zeros_initializer(),
    "torch_inplace": lambda: torch.nn.init.xavier_uniform_,
}


@pytest.mark.parametrize("name", sorted(PLACED))
def test_initial_value_is_made_on_the_default_device(store, name):
    """``with torch.device(...)`` plays TF's ``tf.device``: seeded or not, every initializer's
    value lands there ("meta" here: a model built without memory, for ``to_empty()``).
    (identity is left out: torch's first ``eye`` on meta costs seconds of imports.)"""
    make = PLACED[name]
    with torch.device("meta"):
        w = ts.get_variable("w", [4, 4], initializer=None if make is None else make())
    assert w.is_meta and tuple(w.shape) == (4, 4) and w.dtype == torch.float32
