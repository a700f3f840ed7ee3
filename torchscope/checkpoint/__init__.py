"""Read TensorFlow checkpoints without TensorFlow: ``ts.checkpoint``, with TF's spellings.

>>> from torchscope import checkpoint
>>> checkpoint.list_variables("tests/data/checkpoints/tf1_partitioned")
[('global_step', []), ('part/w', [7, 3])]
>>> checkpoint.load_variable("tests/data/checkpoints/tf1_partitioned", "part/w").shape
(7, 3)

Reads the V2 format (tensor bundles: ``model.ckpt.index`` + ``model.ckpt.data-*``) that
``tf.compat.v1.train.Saver``, ``tf.train.Checkpoint`` and Estimators have written since TF 0.12,
including sharded, partitioned, string and snappy-indexed bundles, with CRC32C checks. Inspect one
from the shell with ``python -m torchscope.checkpoint inspect PATH``.
"""

from ._init_from import OPTIMIZER_SLOT_PATTERN, init_from_checkpoint
from ._paths import latest_checkpoint
from ._reader import CheckpointReader, list_variables, load_checkpoint, load_variable

__all__ = [
    "CheckpointReader",
    "OPTIMIZER_SLOT_PATTERN",
    "init_from_checkpoint",
    "latest_checkpoint",
    "list_variables",
    "load_checkpoint",
    "load_variable",
]
