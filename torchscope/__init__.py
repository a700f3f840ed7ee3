"""torchscope: TensorFlow 1's variable sharing for PyTorch (façade; filled in as modules land)."""

__version__ = "0.1.0.dev0"
