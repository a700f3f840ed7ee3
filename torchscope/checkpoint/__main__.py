"""``python -m torchscope.checkpoint inspect PATH [--tensor NAME] [--all-tensors]``."""

import sys

from ._cli import main

__all__: list = []

if __name__ == "__main__":
    sys.exit(main())
