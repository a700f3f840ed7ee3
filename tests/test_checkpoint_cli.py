"""``python -m torchscope.checkpoint inspect``: the table, tensor values, and bad-input exits.

Two cases run the real command in a subprocess (each pays torch's import time); the others call
the same entry point, ``_cli.main``, in process.
"""

import os
import subprocess
import sys

from torchscope.checkpoint import _cli

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "tests", "data", "checkpoints")


def run(*args):
    return subprocess.run([sys.executable, "-m", "torchscope.checkpoint", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=120)


def test_inspect_prints_name_dtype_shape_and_size_of_every_tensor():
    result = run("inspect", os.path.join(DATA, "tf1_many_dtypes"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "dtype", "shape", "size"]
    assert lines[1].split() == ["bert/embeddings/word_embeddings", "float32", "[32,", "16]",
                                "2.0", "KiB"]
    assert any(line.split()[:2] == ["dtypes/bfloat16", "bfloat16"] for line in lines)
    assert lines[-1].startswith("26 tensors, 5.1 KiB in ")


def test_inspect_missing_path_exits_2_with_one_line_and_no_traceback():
    result = run("inspect", "no/such/model.ckpt")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "torchscope: error: no/such/model.ckpt.index: no such checkpoint (its .index file is "
        "missing) Fix: pass a checkpoint prefix (model.ckpt), its .index file, or a directory "
        "with a 'checkpoint' file."]


def test_inspect_tensor_prints_its_values(capsys):
    assert _cli.main(["inspect", os.path.join(DATA, "tf1_partitioned"), "--tensor", "part/w"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "tensor_name:  part/w"
    assert "[18. 19. 20.]]" in out


def test_inspect_all_tensors_prints_every_value(capsys):
    assert _cli.main(["inspect", os.path.join(DATA, "tf1_sharded"), "--all-tensors"]) == 0
    out = capsys.readouterr().out
    assert out.count("tensor_name:  ") == 5 and "b'second device'" in out


def test_inspect_unknown_tensor_exits_2_after_printing_the_known_ones(capsys):
    path = os.path.join(DATA, "tf1_partitioned")
    assert _cli.main(["inspect", path, "--tensor", "global_step", "--tensor", "part/w:0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "tensor_name:  global_step\n3\n"
    assert len(captured.err.splitlines()) == 1
    assert "Key part/w:0 not found in checkpoint Similar names: part/w" in captured.err
