"""How fast ts.checkpoint reads a BERT-base-sized TensorFlow checkpoint, with and without CRCs.

    python benchmarks/bench_checkpoint.py [--repeat 3] [--dir /tmp]

Writes a ~440 MB bundle shaped like BERT-base (199 tensors: a 30522x768 word embedding, 12
layers of attention and feed-forward kernels, LayerNorms) with the test-only writer into a
temporary directory, deletes it afterwards, and reports for reading every tensor:

* ``get_tensor`` with ``verify=True`` (CRC32C checked, the default) and ``verify=False``;
* ``get_torch_tensor`` with ``verify=True``;
* the raw read speed of the same data file in the same run (one ``readinto`` into a fresh
  buffer), and each reader figure as a ratio of it.

The file was just written, so it is read from the page cache: the figures measure the reader's
own cost, not the disk. The CRC32C backend in use is printed (``numpy`` unless ``google_crc32c``
or ``crc32c`` is installed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from typing import Callable, Dict, List

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
import tfckpt_writer  # noqa: E402

from torchscope import checkpoint  # noqa: E402
from torchscope.checkpoint import _crc32c  # noqa: E402

HIDDEN, INTERMEDIATE, LAYERS, VOCAB = 768, 3072, 12, 30522


def bert_base_shapes() -> Dict[str, tuple]:
    shapes = {
        "bert/embeddings/word_embeddings": (VOCAB, HIDDEN),
        "bert/embeddings/position_embeddings": (512, HIDDEN),
        "bert/embeddings/token_type_embeddings": (2, HIDDEN),
        "bert/embeddings/LayerNorm/gamma": (HIDDEN,),
        "bert/embeddings/LayerNorm/beta": (HIDDEN,),
        "bert/pooler/dense/kernel": (HIDDEN, HIDDEN),
        "bert/pooler/dense/bias": (HIDDEN,),
        "cls/predictions/transform/dense/kernel": (HIDDEN, HIDDEN),
        "cls/predictions/transform/dense/bias": (HIDDEN,),
        "cls/predictions/output_bias": (VOCAB,),
    }
    for i in range(LAYERS):
        layer = f"bert/encoder/layer_{i}"
        for part in ("query", "key", "value"):
            shapes[f"{layer}/attention/self/{part}/kernel"] = (HIDDEN, HIDDEN)
            shapes[f"{layer}/attention/self/{part}/bias"] = (HIDDEN,)
        shapes[f"{layer}/attention/output/dense/kernel"] = (HIDDEN, HIDDEN)
        shapes[f"{layer}/attention/output/dense/bias"] = (HIDDEN,)
        shapes[f"{layer}/intermediate/dense/kernel"] = (HIDDEN, INTERMEDIATE)
        shapes[f"{layer}/intermediate/dense/bias"] = (INTERMEDIATE,)
        shapes[f"{layer}/output/dense/kernel"] = (INTERMEDIATE, HIDDEN)
        shapes[f"{layer}/output/dense/bias"] = (HIDDEN,)
        for norm in ("attention/output/LayerNorm", "output/LayerNorm"):
            shapes[f"{layer}/{norm}/gamma"] = (HIDDEN,)
            shapes[f"{layer}/{norm}/beta"] = (HIDDEN,)
    return shapes


def write_checkpoint(directory: str) -> str:
    rng = np.random.default_rng(0)
    tensors = {name: rng.standard_normal(shape, dtype=np.float32)
               for name, shape in bert_base_shapes().items()}
    tensors["global_step"] = np.int64(1000000)
    prefix = os.path.join(directory, "model.ckpt-1000000")
    tfckpt_writer.write_bundle(prefix, tensors)
    return prefix


def best_of(repeat: int, run: Callable[[], None]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def raw_read(path: str) -> Callable[[], None]:
    # Into a fresh buffer, as the reader does: page faults included on both sides.
    def run() -> None:
        buffer = np.empty(os.path.getsize(path), dtype=np.uint8)
        with open(path, "rb") as f:
            f.readinto(buffer.data)
    return run


def read_all(prefix: str, verify: bool, torch_tensors: bool = False) -> Callable[[], None]:
    # Every value is kept until the end, as a model load keeps them: discarding each one would
    # let malloc hand the next read the same cache-hot pages and flatter the figures.
    def run() -> None:
        reader = checkpoint.load_checkpoint(prefix, verify=verify)
        get = reader.get_torch_tensor if torch_tensors else reader.get_tensor
        values = [get(name) for name in reader.keys()]
        assert len(values) == len(reader)
    return run


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best is kept)")
    parser.add_argument("--dir", default=None, help="where to put the temporary checkpoint")
    args = parser.parse_args(argv)
    directory = tempfile.mkdtemp(prefix="bench_checkpoint_", dir=args.dir)
    try:
        start = time.perf_counter()
        prefix = write_checkpoint(directory)
        data = prefix + ".data-00000-of-00001"
        size_mb = os.path.getsize(data) / 1e6
        tensors = len(checkpoint.list_variables(prefix))
        print(f"checkpoint: {tensors} tensors, {size_mb:.0f} MB "
              f"(written in {time.perf_counter() - start:.1f} s); CRC32C backend: "
              f"{_crc32c.BACKEND}")
        raw = best_of(args.repeat, raw_read(data))
        print(f"{'raw file read (one readinto)':40s} {size_mb / raw:8.0f} MB/s   1.00x raw")
        for label, run in [
            ("get_tensor, verify=True (default)", read_all(prefix, verify=True)),
            ("get_tensor, verify=False", read_all(prefix, verify=False)),
            ("get_torch_tensor, verify=True", read_all(prefix, verify=True, torch_tensors=True)),
        ]:
            seconds = best_of(args.repeat, run)
            print(f"{label:40s} {size_mb / seconds:8.0f} MB/s   {raw / seconds:.2f}x raw "
                  f"({seconds:.2f} s)")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
