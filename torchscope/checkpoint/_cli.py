"""``python -m torchscope.checkpoint inspect PATH``: TF's ``inspect_checkpoint``, without TF.

>>> main(["inspect", "tests/data/checkpoints/tf1_partitioned"])
name         dtype    shape   size
global_step  int64    []      8 B
part/w       float32  [7, 3]  84 B
2 tensors, 92 B in tests/data/checkpoints/tf1_partitioned/model.ckpt
0
>>> main(["inspect", "tests/data/checkpoints/tf1_partitioned", "--tensor", "global_step"])
tensor_name:  global_step
3
0

Bad input (a missing path, a corrupt file, an unknown tensor) prints one line, ``torchscope:
error: ...``, to stderr and exits with status 2, like an argparse usage error.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional, Sequence

import numpy as np

from .._errors import TorchscopeError
from ._reader import CheckpointReader

__all__ = ["main"]


def _human(nbytes: int) -> str:
    """``1536 -> '1.5 KiB'``: sizes as people read them."""
    size = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{nbytes} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _table(reader: CheckpointReader) -> List[str]:
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_name_map()
    rows = [("name", "dtype", "shape", "size")]
    total = 0
    for name in reader.keys():
        size = reader.stored_bytes(name)
        total += size
        rows.append((name, dtypes[name], str(shapes[name]), _human(size)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3]
             for row in rows]
    lines.append(f"{len(shapes)} tensors, {_human(total)} in {reader.prefix}")
    return lines


def _values(reader: CheckpointReader, name: str) -> List[str]:
    value = reader.get_tensor(name)
    return [f"tensor_name:  {name}", str(value)]


def _one_line(error: BaseException) -> str:
    parts = [" ".join(part.split()) for part in str(error).split("\n\n") if part.strip()]
    return "torchscope: error: " + " ".join(parts)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m torchscope.checkpoint",
        description="Inspect TensorFlow checkpoints without TensorFlow.")
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser(
        "inspect", help="list the tensors of a checkpoint (name, dtype, shape, size)")
    inspect.add_argument("path", help="checkpoint prefix, its .index file, or a directory")
    inspect.add_argument("--tensor", action="append", default=[], metavar="NAME",
                         help="print this tensor's values (may repeat)")
    inspect.add_argument("--all-tensors", action="store_true",
                         help="print the values of every tensor")
    inspect.add_argument("--no-verify", action="store_true",
                         help="skip the CRC32C check of tensor data")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line; returns the exit status (0 ok, 2 bad input).

    Args:
        argv: the arguments after the program name; ``sys.argv[1:]`` when ``None``.

    Returns:
        0 on success; 2 when a torchscope error (missing or malformed checkpoint, unknown tensor
        name) was reported on stderr.
    """
    args = _parser().parse_args(argv)
    try:
        reader = CheckpointReader(args.path, verify=not args.no_verify)
        if not (args.tensor or args.all_tensors):
            _print(_table(reader))
        names = reader.keys() if args.all_tensors else args.tensor
        with np.printoptions(threshold=sys.maxsize if args.all_tensors else 1000):
            for name in names:
                _print(_values(reader, name))
    except TorchscopeError as error:
        print(_one_line(error), file=sys.stderr)
        return 2
    except BrokenPipeError:  # `... | head` closed the pipe: not an error
        sys.stderr.close()
    return 0


def _print(lines: List[str]) -> None:
    print("\n".join(lines), flush=True)
