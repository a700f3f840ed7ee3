"""The examples run end to end in a fast mode, so CI catches an example that breaks.

Each runs as a subprocess (as a user would run it) with its outputs in ``tmp_path``; the tests
check the exit code, the files written and the metrics printed. They need the ``examples`` extra
(scikit-learn, matplotlib, tqdm): ``pip install -e '.[test,examples]'``.
"""

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TIMEOUT_S = 120


def _run(script, *args, cwd):
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=cwd,
                            capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _metric(pattern, output):
    match = re.search(pattern, output)
    assert match, f"{pattern!r} not in output:\n{output}"
    return float(match.group(1))


def test_siamese_digits_fast_run_prints_metrics_and_writes_plot_and_checkpoint(tmp_path):
    from safetensors import safe_open

    out = tmp_path / "run"              # missing: the example creates it
    output = _run("siamese_digits.py", "--fast", "--device", "cpu", "--out", str(out),
                  cwd=tmp_path)

    baseline = _metric(r"raw pixels \(baseline\): +([0-9.]+)", output)
    ncm = _metric(r"32-D embedding: +([0-9.]+)", output)
    verification = _metric(r"pair-verification accuracy: +([0-9.]+)", output)
    assert 0.8 < baseline < 1.0
    assert 0.5 < ncm <= 1.0 and 0.5 < verification <= 1.0    # chance: 0.1 and 0.5
    assert "tower/hidden1/kernel" in output and "<root> (2)" in output   # summary: 2 uses a pass

    plot = out / "siamese_embedding.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    checkpoint = out / "siamese_digits.safetensors"
    assert str(checkpoint) in output
    with safe_open(str(checkpoint), framework="pt") as handle:
        keys = set(handle.keys())
    assert {"tower/hidden1/kernel", "tower/embedding/bias", "tower/map2d/out/kernel"} <= keys
    assert len(keys) == 10


def test_multi_tower_three_towers_match_one_tower_to_tolerance(tmp_path):
    output = _run("multi_tower.py", "--towers", "3", "--steps", "20", cwd=tmp_path)

    assert _metric(r"(\d+) towers: 20 steps", output) >= 3    # more with more GPUs
    assert "model/hidden/kernel" in output
    assert _metric(r"max \|weight difference\| after training: (\S+)", output) <= 1e-5
    single = _metric(r"1 tower: .*held-out accuracy ([0-9.]+)", output)
    multi = _metric(r"\d+ towers: .*held-out accuracy ([0-9.]+)", output)
    assert single == multi


def test_tf1_port_trains_and_keeps_tf_names(tmp_path):
    output = _run("tf1_port.py", "--steps", "30", cwd=tmp_path)

    before = _metric(r"accuracy before training: ([0-9.]+)", output)
    after = _metric(r"accuracy after training: +([0-9.]+)", output)
    assert after > before + 0.1
    assert _metric(r"global_step: (\d+)", output) == 30
    assert _metric(r"regularization loss: ([0-9.]+)", output) > 0
    assert ("['matcher/scale', 'matcher/bias', 'encoder/hidden/weights', 'encoder/hidden/biases', "
            "'encoder/code/weights', 'encoder/code/biases']") in output
