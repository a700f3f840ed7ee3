"""Writes the ``ts.layers`` fixtures under tests/data/layers/, with TensorFlow's own answers.

Run once, by hand, with a TensorFlow virtualenv (the test suite never imports TensorFlow)::

    python3 -m venv /work/tfvenv && /work/tfvenv/bin/pip install tensorflow-cpu tf-keras
    /work/tfvenv/bin/python tests/fixtures_gen/make_layers.py

Everything is built with ``tf.compat.v1.layers`` in TF1 graph mode (``TF_USE_LEGACY_KERAS=1``,
``disable_v2_behavior()``). It writes:

* ``model/`` — the acceptance model (:func:`model`, ported line by line in
  tests/test_layers_tf_model.py): ``model.ckpt.*`` written by ``tf.compat.v1.train.Saver`` after
  every variable was set to random values (moving statistics included), and ``reference.npz``
  with the input, the outputs in inference and in training mode, the moving statistics after
  that one training step (UPDATE_OPS run) and the inference output after it;
  ``reference.json`` lists the checkpoint's variables.
* ``cases.npz`` + ``cases.json`` — one small reference per layer configuration (dense, conv1d,
  conv2d with 'same'/'valid', strides 1/2, odd/even sizes, dilation, channels_first; pooling;
  flatten; batch normalization in both modes, fused and not) with fixed weights, so the layer
  math is checked independently of checkpoint loading.
* ``signatures.json`` — each ``tf.compat.v1.layers`` function's parameters and defaults.
* ``naming.json`` — small programs of layer calls and variable scopes (:data:`NAMING`) with the
  variable names, scope names and errors TF produced.

Arrays are stored with ``allow_pickle=False``; the whole directory is a few tens of kilobytes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, "tests", "data", "layers")

# Bound by _setup(), not at import: `pytest --doctest-modules` may import this file in the
# project's environment, which has no TensorFlow.
tf = tf1 = None


def _setup() -> None:
    global tf, tf1
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import warnings

    warnings.filterwarnings("ignore")
    import tensorflow

    tf, tf1 = tensorflow, tensorflow.compat.v1
    tf1.disable_v2_behavior()
    tf.get_logger().setLevel("ERROR")


# --------------------------------------------------------------------------------------------
# The acceptance model


def model(x, training):
    """The TF1 model; tests/test_layers_tf_model.py ports it line by line."""
    layers = tf1.layers
    h = layers.conv2d(x, 6, 3, strides=2, padding="same")         # 8x8 -> 4x4, pads (0, 1)
    h = layers.batch_normalization(h, training=training)           # fused: unbiased update
    h = tf.nn.relu(h)
    h = layers.conv2d(h, 8, 2, padding="same", activation=tf.nn.relu)   # even kernel
    h = layers.max_pooling2d(h, 3, 2, padding="same")              # 4x4 -> 2x2
    h = layers.average_pooling2d(h, 2, 1, padding="same")          # divides by valid counts
    h = layers.flatten(h)
    h = layers.dense(h, 10, activation=tf.tanh, name="fc")
    h = layers.batch_normalization(h, training=training, name="bn")    # 2-D: biased update
    return layers.dense(h, 3)


def write_model(rng: np.random.RandomState) -> None:
    out = os.path.join(OUT, "model")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    graph = tf1.Graph()
    with graph.as_default():
        x = tf1.placeholder(tf.float32, [2, 8, 8, 3])
        training = tf1.placeholder_with_default(False, [])
        y = model(x, training)
        step = tf1.train.get_or_create_global_step()
        updates = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
        variables = tf1.global_variables()
        moving = [v for v in variables if "moving_" in v.op.name]
        saver = tf1.train.Saver()
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            for v in variables:
                shape = v.shape.as_list()
                if v is step:
                    sess.run(v.assign(7))
                    continue
                name = v.op.name
                if name.endswith("moving_variance") or name.endswith("gamma"):
                    value = rng.uniform(0.5, 1.5, shape)
                elif name.endswith("moving_mean") or name.endswith("beta"):
                    value = rng.normal(0.0, 0.3, shape)
                else:
                    value = rng.normal(0.0, 0.4, shape)
                sess.run(v.assign(value.astype(np.float32)))
            prefix = saver.save(sess, os.path.join(out, "model.ckpt"), write_meta_graph=False)
            inputs = rng.normal(0.0, 1.0, [2, 8, 8, 3]).astype(np.float32)
            arrays = {"input": inputs, "inference": sess.run(y, {x: inputs})}
            arrays["training"], _ = sess.run([y, updates], {x: inputs, training: True})
            for v in moving:
                arrays["after/" + v.op.name] = sess.run(v)
            arrays["inference_after"] = sess.run(y, {x: inputs})
    os.remove(os.path.join(out, "checkpoint"))      # it holds absolute paths; tests use the prefix
    np.savez_compressed(os.path.join(out, "reference.npz"), **arrays)
    listed = tf.train.list_variables(prefix)
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"tensorflow": tf.__version__, "prefix": "model.ckpt",
                   "variables": [[name, list(shape)] for name, shape in listed],
                   "update_ops": len(updates)}, f, indent=1)


# --------------------------------------------------------------------------------------------
# Per-layer references

ACTIVATIONS = {None: None, "relu": "relu", "tanh": "tanh"}


def _conv_cases():
    cases = []
    for size in (7, 8):
        for stride in (1, 2):
            for padding in ("same", "valid"):
                cases.append((f"conv2d_{padding}_s{stride}_{size}",
                              [2, size, size, 2], dict(filters=3, kernel_size=3,
                                                       strides=stride, padding=padding)))
    cases += [
        ("conv2d_same_even_kernel", [2, 8, 8, 2], dict(filters=3, kernel_size=2, padding="same")),
        ("conv2d_same_rect", [2, 7, 8, 2],
         dict(filters=3, kernel_size=[3, 2], strides=[2, 1], padding="same")),
        ("conv2d_same_s3_k5", [1, 9, 8, 2],
         dict(filters=2, kernel_size=5, strides=3, padding="same")),
        ("conv2d_same_dilated", [2, 8, 8, 2],
         dict(filters=3, kernel_size=3, dilation_rate=2, padding="same")),
        ("conv2d_valid_dilated", [2, 8, 7, 2],
         dict(filters=3, kernel_size=[3, 2], dilation_rate=[2, 3], padding="valid")),
        ("conv2d_channels_first", [2, 2, 8, 8],
         dict(filters=3, kernel_size=3, strides=2, padding="same",
              data_format="channels_first")),
        ("conv2d_relu_no_bias", [2, 6, 6, 2],
         dict(filters=3, kernel_size=3, activation="relu", use_bias=False)),
        ("conv1d_same_s2", [2, 9, 2], dict(filters=3, kernel_size=3, strides=2, padding="same")),
        ("conv1d_same_even_kernel", [2, 8, 2], dict(filters=3, kernel_size=4, padding="same")),
        ("conv1d_valid", [2, 9, 2], dict(filters=3, kernel_size=3, padding="valid")),
        ("conv1d_same_dilated", [2, 9, 2],
         dict(filters=3, kernel_size=3, dilation_rate=2, padding="same")),
        ("conv1d_causal_dilated", [2, 9, 2],
         dict(filters=3, kernel_size=3, dilation_rate=2, padding="causal")),
        ("conv1d_channels_first", [2, 2, 9],
         dict(filters=3, kernel_size=3, strides=2, padding="same",
              data_format="channels_first")),
    ]
    return [(name, "conv1d" if name.startswith("conv1d") else "conv2d", shape, kw)
            for name, shape, kw in cases]


def _pool_cases():
    cases = []
    for kind in ("max", "average"):
        for padding in ("same", "valid"):
            for shape, pool, stride in (([2, 8, 8, 2], 3, 2), ([2, 7, 7, 2], 2, 2),
                                        ([2, 7, 8, 2], 3, 1), ([1, 5, 6, 2], [2, 3], [1, 2])):
                name = f"{kind}_pooling2d_{padding}_{pool}_{stride}_{shape[1]}x{shape[2]}"
                cases.append((name.replace("[", "").replace("]", "").replace(", ", "-"),
                              f"{kind}_pooling2d", shape,
                              dict(pool_size=pool, strides=stride, padding=padding)))
        cases.append((f"{kind}_pooling2d_channels_first", f"{kind}_pooling2d", [2, 2, 7, 8],
                      dict(pool_size=3, strides=2, padding="same",
                           data_format="channels_first")))
        for padding in ("same", "valid"):
            cases.append((f"{kind}_pooling1d_{padding}", f"{kind}_pooling1d", [2, 8, 2],
                          dict(pool_size=3, strides=2, padding=padding)))
        cases.append((f"{kind}_pooling1d_channels_first", f"{kind}_pooling1d", [2, 2, 7],
                      dict(pool_size=2, strides=2, padding="same",
                           data_format="channels_first")))
    return cases


def _other_cases():
    return [
        ("dense_relu", "dense", [3, 5], dict(units=4, activation="relu")),
        ("dense_rank3_no_bias", "dense", [2, 3, 5], dict(units=4, use_bias=False)),
        ("flatten_channels_last", "flatten", [2, 3, 2, 2], {}),
        ("flatten_channels_first", "flatten", [2, 3, 2, 2], dict(data_format="channels_first")),
        ("flatten_channels_first_rank3", "flatten", [2, 3, 4],
         dict(data_format="channels_first")),
        ("flatten_channels_first_rank5", "flatten", [1, 2, 2, 3, 2],
         dict(data_format="channels_first")),
        ("flatten_rank1", "flatten", [3], {}),
    ]


def _bn_cases():
    """``(name, input shape, kwargs, how training is given, dtype)``."""
    f32, f64 = "float32", "float64"
    return [
        ("bn_fused_train", [4, 3, 3, 2], dict(momentum=0.9), True, f32),
        ("bn_fused_inference", [4, 3, 3, 2], dict(momentum=0.9), False, f32),
        ("bn_fused_axis1_train", [4, 2, 3, 3], dict(axis=1, momentum=0.9), True, f32),
        ("bn_fused_rank5_train", [2, 2, 2, 3, 2], dict(momentum=0.9), True, f32),
        ("bn_fused_eps_train", [4, 3, 3, 2], dict(epsilon=1e-5), True, f32),
        ("bn_fused_tensor_true", [4, 3, 3, 2], dict(momentum=0.9), "tensor_true", f32),
        ("bn_fused_tensor_false", [4, 3, 3, 2], dict(momentum=0.9), "tensor_false", f32),
        ("bn_fused_false_train", [4, 3, 3, 2], dict(momentum=0.9, fused=False), True, f32),
        ("bn_fused_one_sample_train", [1, 1, 1, 2], dict(momentum=0.9), True, f32),
        ("bn_dense_train", [6, 4], dict(momentum=0.9), True, f32),
        ("bn_dense_inference", [6, 4], {}, False, f32),
        ("bn_rank3_train", [3, 4, 2], dict(momentum=0.9), True, f32),
        ("bn_axis2_train", [4, 3, 3, 2], dict(axis=2, momentum=0.9), True, f32),
        ("bn_multi_axis_train", [4, 3, 3, 2], dict(axis=[1, 2], momentum=0.9), True, f32),
        ("bn_float64_train", [4, 3, 3, 2], dict(momentum=0.9), True, f64),
        ("bn_no_center_no_scale_train", [4, 3, 3, 2],
         dict(center=False, scale=False, momentum=0.9), True, f32),
        ("bn_not_trainable_train", [4, 3, 3, 2], dict(trainable=False, momentum=0.9), True, f32),
    ]


def _activation(name):
    return {None: None, "relu": tf.nn.relu, "tanh": tf.tanh}[name]


def _channels_first_on_cpu(layer, x_value, args, y_first):
    """TF's CPU kernels cannot run NCHW convolutions or pooling: run the same layer (same HWIO
    kernel) on the NHWC transpose, after checking that the NCHW graph made the same variables."""
    rank = x_value.ndim
    to_last = [0] + list(range(2, rank)) + [1]
    to_first = [0, rank - 1] + list(range(1, rank - 1))
    before = {v.op.name: v.shape.as_list() for v in tf1.global_variables()}
    y_last = getattr(tf1.layers, layer)(tf1.constant(x_value.transpose(to_last)),
                                        **dict(args, data_format="channels_last"))
    after = {v.op.name: v.shape.as_list() for v in tf1.global_variables()
             if v.op.name not in before}
    assert sorted(before.values()) == sorted(after.values()), (before, after)
    y = tf1.transpose(y_last, to_first)
    assert y.shape.as_list() == y_first.shape.as_list(), (y.shape, y_first.shape)
    return y


def _grid(rng, low, high, shape, dtype="float32"):
    """Random multiples of 1/8 in [low, high]: exact in every float type, and compressible."""
    return (rng.randint(round(low * 8), round(high * 8) + 1, shape) / 8).astype(dtype)


def write_cases(rng: np.random.RandomState) -> None:
    pools = {"float32": [], "float64": []}
    index = []

    def put(key, value):
        """Packs ``value`` into one flat array per dtype (one npz entry per array would cost
        more in zip headers than the data); returns where it lies: ``[dtype, offset, shape]``."""
        del key     # the place in cases.json names it
        value = np.asarray(value)
        pool = pools[value.dtype.name]
        where = [value.dtype.name, sum(a.size for a in pool), list(value.shape)]
        pool.append(value.reshape(-1))
        return where

    for name, layer, shape, kw in _conv_cases() + _pool_cases() + _other_cases():
        graph = tf1.Graph()
        with graph.as_default():
            x_value = _grid(rng, -2, 2, shape)
            entry = {"name": name, "layer": layer, "kwargs": kw,
                     "input": put(f"{name}/input", x_value), "weights": {}}
            args = dict(kw)
            if "activation" in args:
                args["activation"] = _activation(args["activation"])
            if layer in ("conv1d", "conv2d", "dense"):
                channels_first = kw.get("data_format") == "channels_first"
                rank = 1 if layer == "conv1d" else 2 if layer == "conv2d" else 0
                in_ch = shape[1] if channels_first else shape[-1]
                size = kw.get("kernel_size", 1)
                size = [size] * rank if isinstance(size, int) else list(size)
                out_ch = kw.get("filters", kw.get("units"))
                kernel = _grid(rng, -1, 1, size + [in_ch, out_ch])
                bias = _grid(rng, -1, 1, [out_ch])
                entry["weights"]["kernel"] = put(f"{name}/kernel", kernel)
                args["kernel_initializer"] = tf1.constant_initializer(kernel)
                if kw.get("use_bias", True):
                    entry["weights"]["bias"] = put(f"{name}/bias", bias)
                    args["bias_initializer"] = tf1.constant_initializer(bias)
            y = getattr(tf1.layers, layer)(tf1.constant(x_value), **args)
            if kw.get("data_format") == "channels_first" and layer != "flatten":
                y = _channels_first_on_cpu(layer, x_value, args, y)
                entry["computed_as"] = "channels_last on transposed tensors (TF's CPU kernels " \
                                       "have no NCHW convolution or pooling)"
            with tf1.Session() as sess:
                sess.run(tf1.global_variables_initializer())
                entry["output"] = put(f"{name}/output", sess.run(y))
        index.append(entry)

    for name, shape, kw, training, dtype in _bn_cases():
        graph = tf1.Graph()
        with graph.as_default():
            x_value = _grid(rng, -2, 4, shape, dtype)
            entry = {"name": name, "layer": "batch_normalization", "kwargs": kw,
                     "training": training, "input": put(f"{name}/input", x_value), "weights": {}}
            axis = kw.get("axis", -1)
            axes = [axis] if isinstance(axis, int) else axis
            axes = [a % len(shape) for a in axes]
            pshape = ([shape[axes[0]]] if len(axes) == 1 else
                      [n if d in axes else 1 for d, n in enumerate(shape)])
            args = dict(kw)
            for var, low, high in (("gamma", 0.5, 1.5), ("beta", -0.5, 0.5),
                                   ("moving_mean", -0.5, 0.5), ("moving_variance", 0.5, 1.5)):
                value = _grid(rng, low, high, pshape, dtype)
                entry["weights"][var] = put(f"{name}/{var}", value)
                args[f"{var}_initializer"] = tf1.constant_initializer(value)
            if training in ("tensor_true", "tensor_false"):
                flag = tf1.placeholder_with_default(training == "tensor_true", [])
            else:
                flag = training
            y = tf1.layers.batch_normalization(tf1.constant(x_value), training=flag, **args)
            updates = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
            moving = [v for v in tf1.global_variables() if "moving_" in v.op.name]
            with tf1.Session() as sess:
                sess.run(tf1.global_variables_initializer())
                out, _ = sess.run([y, updates])
                entry["output"] = put(f"{name}/output", out)
                for v in moving:
                    short = v.op.name.split("/")[-1]
                    entry[short + "_after"] = put(f"{name}/{short}_after", sess.run(v))
            entry["update_ops"] = len(updates)
            entry["fused_kernel"] = any(op.type.startswith("FusedBatchNorm")
                                        for op in graph.get_operations())
        index.append(entry)

    np.savez_compressed(os.path.join(OUT, "cases.npz"),
                        **{dtype: np.concatenate(pool) for dtype, pool in pools.items()})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"tensorflow": tf.__version__, "cases": index}, f,
                  separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# Naming programs
#
# A program is a list of steps:
#   {"layer": "dense", "input": "x2", "kwargs": {...}}   a layer call ("AUTO_REUSE" and "@key"
#                                                        — a captured scope — are decoded)
#   {"scope": name_or_null, "default_name": ..., "reuse": ..., "capture": key, "body": [...]}
#   {"name_scope": name, "body": [...]}
#   {"observe": default_name}          records ["variable_scope", the name it gets]
# and "activation": "probe" records ["name_scope", the name scope the activation runs in].
# TF's answer: variable names in creation order, the trainable ones, the observations, and the
# error (builtin type and first line of the message) if one was raised.

def _dense(**kw):
    return {"layer": "dense", "input": "x2", "kwargs": dict(units=3, **kw)}


def _call(layer, inp, **kw):
    return {"layer": layer, "input": inp, "kwargs": kw}


NAMING = {
    "two_unnamed_dense": [_dense(), _dense()],
    "named_twice_raises": [_dense(name="fc"), _dense(name="fc")],
    "named_twice_reuse_true": [_dense(name="fc"), _dense(name="fc", reuse=True)],
    "named_auto_reuse": [_dense(name="fc", reuse="AUTO_REUSE"),
                         _dense(name="fc", reuse="AUTO_REUSE")],
    "unnamed_auto_reuse_shares_base_name": [_dense(reuse="AUTO_REUSE"),
                                            _dense(reuse="AUTO_REUSE")],
    "unnamed_reuse_true_first_raises": [_dense(reuse=True)],
    "unnamed_reuse_true_shares_first": [_dense(), _dense(), _dense(reuse=True)],
    "in_scope_then_reused_scope": [
        {"scope": "block", "body": [_dense(), _dense(), _call("conv2d", "x4", filters=2,
                                                              kernel_size=3),
                                    _call("batch_normalization", "x4")]},
        {"scope": "block", "reuse": True, "body": [_dense(), _dense()]}],
    "scope_twice_without_reuse_raises": [{"scope": "block", "body": [_dense()]},
                                         {"scope": "block", "body": [_dense()]}],
    "named_in_reused_scopes": [
        {"scope": "block", "body": [_dense(name="fc")]},
        {"scope": "block", "reuse": True, "body": [_dense(name="fc")]},
        {"scope": "block", "reuse": "AUTO_REUSE", "body": [_dense(name="fc")]}],
    "reuse_false_cannot_switch_reuse_off": [
        {"scope": "block", "body": [_dense(name="fc")]},
        {"scope": "block", "reuse": True, "body": [_dense(name="fc", reuse=False)]}],
    "named_dense_takes_the_default_name": [_dense(name="dense"), _dense()],
    "unnamed_then_named_dense_1": [_dense(), _dense(name="dense_1")],
    "unnamed_twice_then_named_dense_1_raises": [_dense(), _dense(), _dense(name="dense_1")],
    "scope_named_dense_opened_first": [{"scope": "dense", "body": []}, _dense()],
    "every_kind": [_call("conv2d", "x4", filters=2, kernel_size=3),
                   _call("conv1d", "x3", filters=2, kernel_size=3),
                   _call("batch_normalization", "x4"), _call("max_pooling2d", "x4",
                                                             pool_size=2, strides=2),
                   _call("average_pooling2d", "x4", pool_size=2, strides=2),
                   _call("flatten", "x4"), _call("dropout", "x2"),
                   _call("conv2d", "x4", filters=2, kernel_size=3), _dense(),
                   {"observe": "conv2d"}, {"observe": "flatten"}, {"observe": "dropout"},
                   {"observe": "max_pooling2d"}, {"observe": "batch_normalization"}],
    "stateless_layers_uniquify_their_name": [
        _call("flatten", "x4", name="f"), _call("flatten", "x4", name="f"), {"observe": "f"},
        _call("dropout", "x2", name="dense"), _dense(),
        _call("max_pooling2d", "x4", pool_size=2, strides=2, name="pool"),
        _call("max_pooling2d", "x4", pool_size=2, strides=2, name="pool"), {"observe": "pool"}],
    "name_is_a_captured_scope": [{"scope": "outer", "capture": "outer", "body": []},
                                 {"scope": "other", "body": [_dense(name="@outer")]}],
    "name_scope_does_not_name_variables": [{"name_scope": "ns", "body": [_dense()]}],
    "unnamed_inside_default_scope": [
        {"scope": None, "default_name": "tower", "body": [_dense(), _dense()]},
        {"scope": None, "default_name": "tower", "body": [_dense()]}],
    "nested_scope_counts": [
        {"scope": "a", "body": [_dense(), {"scope": "b", "body": [_dense()]}, _dense()]},
        {"scope": "a", "reuse": True, "body": [_dense(), {"scope": "b", "body": [_dense()]}]}],
    "trainable_false": [_dense(trainable=False), _call("batch_normalization", "x4"),
                        _call("batch_normalization", "x4", trainable=False)],
    "bad_layer_name_raises": [_dense(name="a b")],
    "name_scopes_inside_layers": [
        _dense(activation="probe"), _dense(activation="probe"),
        _dense(name="fc", activation="probe"), _dense(name="fc", reuse=True, activation="probe"),
        _dense(reuse=True, activation="probe"),
        {"scope": "block", "body": [_dense(activation="probe")]},
        {"name_scope": "ns", "body": [_dense(activation="probe"),
                                      _call("conv2d", "x4", filters=2, kernel_size=3,
                                            activation="probe")]}],
    "observe_after_layers": [_dense(), {"observe": "dense"}, _call("conv2d", "x4", filters=2,
                                                                   kernel_size=3),
                             _call("conv2d", "x4", filters=2, kernel_size=3),
                             {"observe": "conv2d"}],
}


def _tf_program(steps, inputs, captured, observed):
    for step in steps:
        if "layer" in step:
            kw = {}
            for key, value in step["kwargs"].items():
                if value == "AUTO_REUSE":
                    value = tf1.AUTO_REUSE
                elif isinstance(value, str) and value.startswith("@"):
                    value = captured[value[1:]]
                elif value == "probe":
                    value = _probe(observed)
                kw[key] = value
            getattr(tf1.layers, step["layer"])(inputs[step["input"]], **kw)
        elif "scope" in step:
            reuse = step.get("reuse")
            reuse = tf1.AUTO_REUSE if reuse == "AUTO_REUSE" else reuse
            with tf1.variable_scope(step["scope"], default_name=step.get("default_name"),
                                    reuse=reuse) as scope:
                if "capture" in step:
                    captured[step["capture"]] = scope
                _tf_program(step["body"], inputs, captured, observed)
        elif "name_scope" in step:
            with tf1.name_scope(step["name_scope"]):
                _tf_program(step["body"], inputs, captured, observed)
        else:
            with tf1.variable_scope(None, default_name=step["observe"]) as scope:
                observed.append(["variable_scope", scope.name])


def _probe(observed):
    def activation(t):
        observed.append(["name_scope", tf1.identity(t, name="probe").op.name[:-len("/probe")]])
        return t

    return activation


def write_naming() -> None:
    results = {}
    for name, steps in NAMING.items():
        graph = tf1.Graph()
        with graph.as_default():
            inputs = {"x2": tf1.zeros([2, 4]), "x3": tf1.zeros([2, 6, 3]),
                      "x4": tf1.zeros([2, 6, 6, 3])}
            observed, error = [], None
            try:
                _tf_program(steps, inputs, {}, observed)
            except Exception as e:     # noqa: BLE001 - recording TF's answer
                builtin = next(c for c in type(e).__mro__ if c.__module__ == "builtins")
                error = {"type": builtin.__name__, "message": str(e).split("\n")[0]}
            strip = lambda vs: [v.name[:-2] for v in vs]     # noqa: E731 - drop ":0"
            results[name] = {"program": steps, "variables": strip(tf1.global_variables()),
                             "trainable": strip(tf1.trainable_variables()),
                             "observed": observed, "error": error}
    with open(os.path.join(OUT, "naming.json"), "w") as f:
        json.dump({"tensorflow": tf.__version__, "programs": results}, f, separators=(",", ":"))


LAYERS = ("average_pooling1d", "average_pooling2d", "batch_normalization", "conv1d", "conv2d",
          "dense", "dropout", "flatten", "max_pooling1d", "max_pooling2d")


def write_signatures() -> None:
    """Each layer's parameters in order, with defaults: plain values as JSON, initializer
    objects by class name."""
    import inspect

    out = {}
    for name in LAYERS:
        params = []
        for p in inspect.signature(getattr(tf1.layers, name)).parameters.values():
            default = p.default
            if default is inspect.Parameter.empty:
                params.append([p.name])
            elif default is None or isinstance(default, (bool, int, float, str)):
                params.append([p.name, default])
            elif isinstance(default, tuple):
                params.append([p.name, list(default)])
            else:
                params.append([p.name, {"class": type(default).__name__}])
        out[name] = params
    with open(os.path.join(OUT, "signatures.json"), "w") as f:
        json.dump({"tensorflow": tf.__version__, "signatures": out}, f, separators=(",", ":"))


def main() -> None:
    _setup()
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(20240611)
    write_model(rng)
    write_cases(rng)
    write_naming()
    write_signatures()
    total = sum(os.path.getsize(os.path.join(root, f))
                for root, _, files in os.walk(OUT) for f in files)
    print(f"wrote {OUT} ({total / 1024:.1f} KiB) with TensorFlow {tf.__version__}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
