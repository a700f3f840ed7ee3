"""TF1's functional layers (``tf.compat.v1.layers``) with TF's names, defaults and layouts.

``tf.compat.v1.layers.X`` → ``ts.layers.X`` ports a model line by line: the variables are
``ts.get_variable``\\ s with TF's names (``dense/kernel``, ``conv2d_1/bias``,
``bn/moving_mean``) and layouts (dense kernels ``[in, out]``, conv kernels HWIO), so a TF1
checkpoint loads unchanged with ``ts.checkpoint.init_from_checkpoint``. Tensors are in TF's layout
too (NHWC by default); activations are torch callables. Inside a ``ScopedModule`` the layers
build on the first call and reuse afterwards; ``batch_normalization(training=True)`` updates its
moving statistics in place.

Example:
    >>> import torch, torchscope as ts
    >>> from torchscope import layers
    >>> class Net(ts.ScopedModule):
    ...     def forward(self, x, training=False):
    ...         h = layers.conv2d(x, 8, 3, strides=2, padding="same", activation=torch.relu)
    ...         h = layers.batch_normalization(h, training=training)
    ...         h = layers.max_pooling2d(h, 2, 2)
    ...         return layers.dense(layers.flatten(h), 10, name="logits")
    >>> net = Net().build(torch.zeros(1, 8, 8, 3))
    >>> net(torch.randn(4, 8, 8, 3), training=True).shape
    torch.Size([4, 10])
    >>> list(net.state_dict())[:3]
    ['conv2d/kernel', 'conv2d/bias', 'batch_normalization/gamma']
"""

from ._conv import conv1d, conv2d
from ._core import dense, dropout, flatten
from ._normalization import batch_normalization
from ._pooling import average_pooling1d, average_pooling2d, max_pooling1d, max_pooling2d

__all__ = [
    "average_pooling1d",
    "average_pooling2d",
    "batch_normalization",
    "conv1d",
    "conv2d",
    "dense",
    "dropout",
    "flatten",
    "max_pooling1d",
    "max_pooling2d",
]
