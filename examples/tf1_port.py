"""A TensorFlow 1 program and its torchscope port, run end to end.

The TF1 original (TensorFlow 1.15, graph mode), verbatim. It learns whether two noisy vectors
come from the same prototype: a shared encoder (``make_template``), a matcher scope opened with
``AUTO_REUSE`` because the training and evaluation graphs both build it, L2 regularizers
collected through ``GraphKeys.REGULARIZATION_LOSSES``, and ``tf.trainable_variables()`` handed to
the optimizer::

    import numpy as np
    import tensorflow as tf

    def dense(x, units, name, activation=None):
        with tf.variable_scope(name):
            w = tf.get_variable("weights", [x.shape[-1].value, units],
                                initializer=tf.truncated_normal_initializer(stddev=0.1),
                                regularizer=tf.contrib.layers.l2_regularizer(1e-4))
            b = tf.get_variable("biases", [units], initializer=tf.zeros_initializer())
            y = tf.matmul(x, w) + b
            return activation(y) if activation else y

    def encoder(x):
        return dense(dense(x, 32, "hidden", tf.nn.relu), 16, "code")

    encode = tf.make_template("encoder", encoder)

    def match_logits(a, b):
        with tf.variable_scope("matcher", reuse=tf.AUTO_REUSE):
            scale = tf.get_variable("scale", [], initializer=tf.constant_initializer(5.0))
            bias = tf.get_variable("bias", [], initializer=tf.zeros_initializer())
        cosine = tf.reduce_sum(tf.nn.l2_normalize(encode(a), 1) *
                               tf.nn.l2_normalize(encode(b), 1), 1)
        return scale * cosine + bias

    a = tf.placeholder(tf.float32, [None, 20])
    b = tf.placeholder(tf.float32, [None, 20])
    same = tf.placeholder(tf.float32, [None])
    global_step = tf.get_variable("global_step", [], tf.int64, tf.zeros_initializer(),
                                  trainable=False)
    logits = match_logits(a, b)
    loss = (tf.losses.sigmoid_cross_entropy(same, logits)
            + tf.add_n(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)))
    train_op = tf.train.AdamOptimizer(1e-2).minimize(
        loss, global_step=global_step, var_list=tf.trainable_variables())
    eval_logits = match_logits(a, b)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(eval_logits > 0, same > 0.5), tf.float32))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(300):
            xa, xb, y = make_pairs(64)
            sess.run(train_op, {a: xa, b: xb, same: y})
        xa, xb, y = test_pairs
        print(sess.run([global_step, accuracy], {a: xa, b: xb, same: y}))
        print([v.name for v in tf.trainable_variables()])

The port below keeps every ``tf.`` line that defines or shares a variable as ``ts.`` with the
same arguments. What changes is PyTorch's execution model: there is no graph or session, so the
graph-building code becomes the body of a ``ts.ScopedModule`` (one call = one TF1 graph
construction), placeholders become arguments, and the training loop calls the module.

Run::

    python examples/tf1_port.py
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

import torchscope as ts


def dense(x, units, name, activation=None):
    with ts.variable_scope(name):
        w = ts.get_variable("weights", [x.shape[-1], units],
                            initializer=ts.truncated_normal_initializer(stddev=0.1),
                            regularizer=ts.regularizers.l2_regularizer(1e-4))
        b = ts.get_variable("biases", [units], initializer=ts.zeros_initializer())
        y = x @ w + b
        return activation(y) if activation else y


def encoder(x):
    return dense(dense(x, 32, "hidden", torch.relu), 16, "code")


encode = ts.make_template("encoder", encoder)


def match_logits(a, b):
    with ts.variable_scope("matcher", reuse=ts.AUTO_REUSE):
        scale = ts.get_variable("scale", [], initializer=ts.constant_initializer(5.0))
        bias = ts.get_variable("bias", [], initializer=ts.zeros_initializer())
    cosine = torch.sum(F.normalize(encode(a), dim=1) * F.normalize(encode(b), dim=1), 1)
    return scale * cosine + bias


def graph(a, b, same):
    """The TF1 graph-building code; the placeholders are its arguments."""
    global_step = ts.get_variable("global_step", [], torch.int64, ts.zeros_initializer(),
                                  trainable=False)
    logits = match_logits(a, b)
    loss = (F.binary_cross_entropy_with_logits(logits, same)
            + sum(ts.get_collection(ts.GraphKeys.REGULARIZATION_LOSSES)))
    return loss, logits, global_step


class PairMaker:
    """Pairs of noisy copies of 8 random prototypes, labelled 1 when they share one."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.prototypes = self.rng.normal(size=(8, 20))

    def __call__(self, n: int):
        first = self.rng.integers(0, 8, n)
        same = self.rng.random(n) < 0.5
        second = np.where(same, first, (first + self.rng.integers(1, 8, n)) % 8)
        return self._noisy(first), self._noisy(second), torch.tensor(same, dtype=torch.float32)

    def _noisy(self, which: np.ndarray) -> torch.Tensor:
        noise = self.rng.normal(size=(len(which), 20))
        return torch.tensor(self.prototypes[which] + 1.2 * noise, dtype=torch.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    make_pairs = PairMaker(args.seed)
    test_pairs = make_pairs(2000)

    # Built on the default store (TF1's default graph), so ts.trainable_variables() works at
    # the top level as tf.trainable_variables() did.
    net = ts.ScopedModule.wrap(graph, store=ts.get_default_store())
    # Variables exist after the first call: build before handing them to the optimizer.
    net.build(*make_pairs(2))
    optimizer = torch.optim.Adam(ts.trainable_variables(), lr=1e-2)

    def accuracy():
        # The evaluation "graph" is another call over the same variables.
        with torch.no_grad():
            xa, xb, y = test_pairs
            _, eval_logits, _ = net(xa, xb, y)
            return ((eval_logits > 0) == (y > 0.5)).float().mean().item()

    print(f"held-out accuracy before training: {accuracy():.4f}")
    for _ in range(args.steps):
        loss, _, global_step = net(*make_pairs(64))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            global_step += 1        # minimize(global_step=...) incremented it
    print(f"held-out accuracy after training:  {accuracy():.4f}")
    print(f"global_step: {net.get_buffer('global_step').item()}, "
          f"regularization loss: {ts.get_regularization_loss().item():.5f}")
    names = [ts.get_default_store().name_of(v) for v in ts.trainable_variables()]
    print(f"trainable variables (TF names): {names}")
    print(f"state_dict keys: {list(net.state_dict())}")


if __name__ == "__main__":
    main()
