"""The TF1 conformance corpus: 300 programs, run through torchscope, must reproduce every event
real TensorFlow (``tf.compat.v1`` graph mode, TF 2.21) produced.

The data (``tests/data/conformance``) is copied from ``shared/conformance``; its README defines
the statements and events. A mismatch prints the program and the first differing event.
"""

import json
import os

import pytest
import torch

import torchscope as ts

DATA = os.path.join(os.path.dirname(__file__), "data", "conformance")
with open(os.path.join(DATA, "programs.json")) as f:
    PROGRAMS = json.load(f)
with open(os.path.join(DATA, "tf1_outcomes.json")) as f:
    OUTCOMES = json.load(f)

REUSE = {"none": None, "true": True, "auto": ts.AUTO_REUSE, "false": False}
DTYPES = {"float32": torch.float32, "float64": torch.float64, "int32": torch.int32}
KINDS = ("already exists", "does not exist", "Trying to share variable", "not a valid",
         "without a name_or_scope", "initializer", "after the first time")


def _error_event(exc):
    builtin = next(c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins")
    message = str(exc)
    kind = next((k for k in KINDS if k in message), "other")
    return ["err", builtin, kind, message.split("\n")[0]]


class Runner:
    """Runs one program in a fresh store, recording events as the corpus README defines them."""

    def __init__(self):
        self.events = []
        self.objects = []      # distinct variable objects, in order of first sight
        self.scopes = []       # S: scope objects returned by `with ... as s`
        self.store = None

    def index(self, obj):
        for k, seen in enumerate(self.objects):
            if seen is obj:
                return k
        self.objects.append(obj)
        return len(self.objects) - 1

    def run(self, program):
        self.store = ts.ScopedParameterStore()
        with self.store.as_default():
            self.body(program)
        return self.events

    def body(self, statements):
        for statement in statements:
            try:
                self.statement(statement)
            except (ValueError, TypeError, RuntimeError) as exc:
                self.events.append(_error_event(exc))

    def enter(self, scope_cm, body):
        with scope_cm as s:
            self.scopes.append(s)
            self.events.append(["enter", s.name, bool(s.reuse), s.reuse is ts.AUTO_REUSE])
            self.events.append(["ons", s.original_name_scope])
            self.body(body)

    def statement(self, st):
        op = st[0]
        if op in ("get", "get_dtype", "get_noshape"):
            if op == "get":
                v = ts.get_variable(st[1], st[2])
            elif op == "get_dtype":
                v = ts.get_variable(st[1], st[2], dtype=DTYPES[st[3]])
            else:
                v = ts.get_variable(st[1])
            self.events.append(["get", self.store.name_of(v), self.index(v)])
        elif op == "var":
            v = ts.Variable(torch.zeros(1), name=st[1])
            self.events.append(["var", self.store.name_of(v), self.index(v)])
        elif op == "scope":
            _, name, default_name, reuse, body = st
            self.enter(ts.variable_scope(name, default_name=default_name, reuse=REUSE[reuse]), body)
        elif op == "rescope":
            _, k, reuse, body = st
            if k < len(self.scopes):
                self.enter(ts.variable_scope(self.scopes[k], reuse=REUSE[reuse]), body)
        elif op == "name_scope":
            with ts.name_scope(st[1]):
                self.body(st[2])
        elif op == "reuse_variables":
            ts.get_variable_scope().reuse_variables()
        elif op == "scope_name":
            self.events.append(["scope_name", ts.get_variable_scope().name])
        elif op == "template":
            _, name, body = st
            template = ts.make_template(name, lambda: self.body(body))
            for _ in range(2):
                self.events.append(["call", name])
                try:
                    template()
                except (ValueError, TypeError, RuntimeError) as exc:
                    self.events.append(_error_event(exc))
        else:  # pragma: no cover - the corpus has no other statements
            raise AssertionError(f"unknown statement {st!r}")


def _comparable(event):
    # errors compare by builtin class and key phrase; the wording after it is ours
    return event[:3] if event[0] == "err" else event


@pytest.mark.parametrize("index", range(len(PROGRAMS)), ids=lambda i: f"program_{i:03d}")
def test_conformance_program_reproduces_tf1_events(index):
    program, expected = PROGRAMS[index], OUTCOMES[index]
    got = Runner().run(program)
    for i, (want, have) in enumerate(zip(expected, got)):
        if _comparable(want) != _comparable(have):
            pytest.fail(f"program {index}: {json.dumps(program)}\n"
                        f"first difference at event {i}:\n  TF1:        {want}\n"
                        f"  torchscope: {have}", pytrace=False)
    assert len(got) == len(expected), (
        f"program {index}: {json.dumps(program)}\n{len(expected)} events in TF1, {len(got)} here;"
        f" first extra/missing: {(expected + [None])[len(got)] if len(got) < len(expected) else got[len(expected)]}")


def test_conformance_corpus_is_complete():
    assert len(PROGRAMS) == len(OUTCOMES) == 300
