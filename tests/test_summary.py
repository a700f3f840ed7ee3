"""``ts.summary``: one row per distinct tensor, who uses it, and a de-duplicated total.

Rows are checked as data (``Summary.rows``) and as printed text: each table line is split on
runs of two or more spaces (the column separator) and compared cell by cell.
"""

import re

import torch
from torch import nn

import torchscope as ts

HEADER = ["name", "shape", "dtype", "device", "trainable", "elements", "used by (uses per pass)"]


def table(report):
    """The printed table as (header cells, row cells..., footer line)."""
    lines = str(report).splitlines()
    return [re.split(r" {2,}", line) for line in lines[:-1]], lines[-1]


class Siamese(ts.ScopedModule):
    """Two inputs through one tower (``tower/w``, ``tower/b`` used twice per pass) and a
    non-trainable step counter (a buffer)."""

    def forward(self, a, b):
        outs = []
        for i, x in enumerate((a, b)):
            with ts.variable_scope("tower", reuse=i > 0):
                w = ts.get_variable("w", [3, 2])
                bias = ts.get_variable("b", [2], initializer=ts.zeros_initializer())
                outs.append(x @ w + bias)
        with ts.variable_scope("stats"):
            ts.get_variable("count", [], trainable=False, initializer=ts.zeros_initializer())
        return outs


def built_siamese():
    return Siamese().build(torch.ones(1, 3), torch.ones(1, 3))


def tower(store, reuse, applications=1):
    """A tower module on ``store`` applying ``tower/w`` ``applications`` times per pass."""
    def fn(x):
        with ts.variable_scope("tower", reuse=reuse):
            for _ in range(applications):
                x = x @ ts.get_variable("w", [4, 4])
            return x + ts.get_variable("b", [4])
    return ts.ScopedModule.wrap(fn, store=store)


class TwoTowers(nn.Module):
    """Two ``ScopedModule`` towers sharing one store (``left``, under AUTO_REUSE, applies ``w``
    twice per pass) and a plain ``nn.Linear`` head."""

    def __init__(self):
        super().__init__()
        store = ts.ScopedParameterStore()
        self.left = tower(store, reuse=ts.AUTO_REUSE, applications=2)
        self.right = tower(store, reuse=True)
        self.head = nn.Linear(4, 1)

    def forward(self, a, b):
        return self.head(self.left(a) * self.right(b))


def built_towers():
    model = TwoTowers()
    model(torch.ones(1, 4), torch.ones(1, 4))
    return model


# --------------------------------------------------------------------------- a siamese module

def test_siamese_rows_name_shape_dtype_device_trainable_and_uses():
    """Each variable of a siamese module is one row named by its TF name; the tower's
    variables were resolved twice in the (first) pass, the counter once."""
    report = ts.summary(built_siamese())
    assert report.rows == [
        {"name": "tower/w", "shape": (3, 2), "dtype": "float32", "device": "cpu",
         "trainable": True, "elements": 6, "modules": [""], "uses": {"": 2}},
        {"name": "tower/b", "shape": (2,), "dtype": "float32", "device": "cpu",
         "trainable": True, "elements": 2, "modules": [""], "uses": {"": 2}},
        {"name": "stats/count", "shape": (), "dtype": "float32", "device": "cpu",
         "trainable": False, "elements": 1, "modules": [""], "uses": {"": 1}},
    ]
    assert report.total == 9


def test_siamese_printed_table_lines():
    """The printed table: the header, one line per variable (root module shown as
    ``<root>`` with its uses per pass, a buffer as trainable "no"), and the total line."""
    rows, footer = table(ts.summary(built_siamese()))
    assert rows == [
        HEADER,
        ["tower/w", "(3, 2)", "float32", "cpu", "yes", "6", "<root> (2)"],
        ["tower/b", "(2,)", "float32", "cpu", "yes", "2", "<root> (2)"],
        ["stats/count", "()", "float32", "cpu", "no", "1", "<root> (1)"],
    ]
    assert footer == "3 variables, 9 elements (each shared tensor counted once)"


def test_uses_per_pass_do_not_grow_with_more_calls():
    """Uses are per pass: calling the module again does not change the counts."""
    net = built_siamese()
    for _ in range(3):
        net(torch.ones(1, 3), torch.ones(1, 3))
    assert [row["uses"] for row in ts.summary(net).rows] == [{"": 2}, {"": 2}, {"": 1}]


def test_summary_of_a_module_without_tensors_is_empty():
    report = ts.summary(nn.ReLU())
    assert report.rows == []
    assert report.total == 0
    assert str(report).splitlines()[-1] == (
        "0 variables, 0 elements (each shared tensor counted once)")


# --------------------------------------------------------------------------- towers sharing

def test_towers_sharing_a_store_give_one_row_per_shared_tensor():
    """Two towers register the same ``tower/w`` and ``tower/b``: one row each, listing both
    modules with their uses per pass (``left`` applies ``w`` twice); the ``nn.Linear`` head's
    tensors are named by their state_dict keys and have no uses."""
    report = ts.summary(built_towers())
    assert [row["name"] for row in report.rows] == ["tower/w", "tower/b", "head.weight",
                                                     "head.bias"]
    w, b, weight, bias = report.rows
    assert w["modules"] == ["left", "right"]
    assert w["uses"] == {"left": 2, "right": 1}
    assert b["modules"] == ["left", "right"]
    assert b["uses"] == {"left": 1, "right": 1}
    assert weight["modules"] == ["head"]
    assert weight["uses"] == {}
    assert (weight["shape"], weight["elements"], weight["trainable"]) == ((1, 4), 4, True)
    assert bias["modules"] == ["head"]


def test_towers_total_counts_each_shared_tensor_once():
    """The total is 16 + 4 + 4 + 1 = 25, while the state_dict (one entry per key) holds 45."""
    model = built_towers()
    report = ts.summary(model)
    assert report.total == 25
    assert report.total == sum(p.numel() for p in model.parameters())
    assert sum(t.numel() for t in model.state_dict().values()) == 45


def test_towers_printed_table_lines():
    rows, footer = table(ts.summary(built_towers()))
    assert rows == [
        HEADER,
        ["tower/w", "(4, 4)", "float32", "cpu", "yes", "16", "left (2), right (1)"],
        ["tower/b", "(4,)", "float32", "cpu", "yes", "4", "left (1), right (1)"],
        ["head.weight", "(1, 4)", "float32", "cpu", "yes", "4", "head"],
        ["head.bias", "(1,)", "float32", "cpu", "yes", "1", "head"],
    ]
    assert footer == "4 variables, 25 elements (each shared tensor counted once)"


def test_plain_pytorch_tie_is_one_row_listing_both_modules():
    """Tensors tied the plain PyTorch way (``b.weight = a.weight``) are one row too, named by
    the first state_dict key."""
    first, second = nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)
    second.weight = first.weight
    report = ts.summary(nn.Sequential(first, nn.ReLU(), second))
    assert len(report.rows) == 1
    assert report.rows[0]["name"] == "0.weight"
    assert report.rows[0]["modules"] == ["0", "2"]
    assert report.total == 4
    rows, _ = table(report)
    assert rows[1] == ["0.weight", "(2, 2)", "float32", "cpu", "yes", "4", "0, 2"]


# --------------------------------------------------------------------------- buffers

class WithBuffers(nn.Module):
    """A ScopedModule with an int64 non-trainable variable and a float moving mean, next to a
    plain ``BatchNorm1d`` (float buffers and the int64 ``num_batches_tracked``)."""

    def __init__(self):
        super().__init__()

        def fn(x):
            with ts.variable_scope("block"):
                w = ts.get_variable("w", [2, 2])
                ts.get_variable("steps", [], dtype=torch.int64, trainable=False,
                                initializer=ts.zeros_initializer())
                ts.get_variable("mean", [2], trainable=False,
                                initializer=ts.zeros_initializer())
            return x @ w

        self.block = ts.ScopedModule.wrap(fn)
        self.norm = nn.BatchNorm1d(2)

    def forward(self, x):
        return self.norm(self.block(x))


def built_with_buffers():
    model = WithBuffers()
    model(torch.ones(3, 2))
    return model


def test_buffers_are_rows_with_trainable_no():
    """Non-trainable variables and plain module buffers are listed, trainable False; the
    ScopedModule's by TF name, the BatchNorm's by state_dict key."""
    rows = {row["name"]: row for row in ts.summary(built_with_buffers()).rows}
    assert list(rows) == ["block/w", "block/steps", "block/mean", "norm.weight", "norm.bias",
                          "norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]
    trainable = {name for name, row in rows.items() if row["trainable"]}
    assert trainable == {"block/w", "norm.weight", "norm.bias"}
    assert rows["block/steps"]["dtype"] == "int64"
    assert rows["block/steps"]["uses"] == {"block": 1}
    assert rows["norm.num_batches_tracked"]["dtype"] == "int64"
    assert rows["norm.running_mean"]["modules"] == ["norm"]


def test_buffers_printed_as_trainable_no():
    rows, footer = table(ts.summary(built_with_buffers()))
    by_name = {cells[0]: cells for cells in rows[1:]}
    assert by_name["block/steps"] == ["block/steps", "()", "int64", "cpu", "no", "1",
                                      "block (1)"]
    assert by_name["block/mean"][4] == "no"
    assert by_name["norm.running_var"] == ["norm.running_var", "(2,)", "float32", "cpu", "no",
                                           "2", "norm"]
    assert by_name["block/w"][4] == "yes"
    assert footer == "8 variables, 16 elements (each shared tensor counted once)"


# --------------------------------------------------------------------------- dtype and device

def test_double_changes_the_dtype_column_and_keeps_shared_rows_shared():
    """After ``.double()`` floating tensors read float64 (int64 stays int64), and the towers'
    variables are still one row each: the tie survived the conversion."""
    model = built_towers()
    model.double()
    report = ts.summary(model)
    assert [row["dtype"] for row in report.rows] == ["float64"] * 4
    assert [row["name"] for row in report.rows] == ["tower/w", "tower/b", "head.weight",
                                                     "head.bias"]
    assert report.rows[0]["modules"] == ["left", "right"]
    assert report.total == 25
    rows, _ = table(report)
    assert rows[1] == ["tower/w", "(4, 4)", "float64", "cpu", "yes", "16",
                       "left (2), right (1)"]


def test_double_on_buffers_converts_floats_only():
    model = built_with_buffers()
    model.double()
    dtypes = {row["name"]: row["dtype"] for row in ts.summary(model).rows}
    assert dtypes["block/steps"] == "int64"
    assert dtypes["norm.num_batches_tracked"] == "int64"
    assert dtypes["block/mean"] == "float64"
    assert dtypes["norm.running_mean"] == "float64"
    assert dtypes["block/w"] == "float64"


def test_device_column_follows_to():
    """After ``.to("meta")`` the device column reads ``meta`` (standing in for an accelerator
    on a CPU-only machine), with the shared rows still shared."""
    model = built_towers()
    model.to("meta")
    report = ts.summary(model)
    assert [row["device"] for row in report.rows] == ["meta"] * 4
    assert report.rows[0]["modules"] == ["left", "right"]
    rows, _ = table(report)
    assert [cells[3] for cells in rows[1:]] == ["meta"] * 4
