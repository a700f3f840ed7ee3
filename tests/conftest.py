"""Shared fixtures: every test starts and must end at the root scope of a clean default store."""

import os
import sys

import pytest
import torch

import torchscope as ts
from torchscope import _store

# test modules import their shared helpers (tf1_helpers, tfckpt_writer) from this folder
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` need a GPU: without one they are skipped, saying so."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA; no GPU on this machine")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


def _scope_state(store):
    state = getattr(store._local, "scope", None)
    if state is None:
        return None
    return state.current, state.name_stack


@pytest.fixture(autouse=True)
def _no_scope_left_open():
    """Fails a test that leaves a variable scope, name scope or default store open."""
    default = ts.get_default_store()
    before = _scope_state(default)
    pushed = _store._thread.defaults.stack
    yield
    assert _store._thread.defaults.stack == pushed, "a store.as_default() block was left open"
    after = _scope_state(default)
    if before is not None and after is not None:
        assert after[0] is before[0], f"variable scope {after[0].name!r} was left open"
        assert after[1] == before[1], f"name scope {after[1]!r} was left open"
    elif after is not None:
        assert after[0] is getattr(default._local, "scope").root, (
            f"variable scope {after[0].name!r} was left open")
        assert after[1] == "", f"name scope {after[1]!r} was left open"


@pytest.fixture
def store():
    """A fresh store made the default for the test (TF1: a fresh graph)."""
    fresh = ts.ScopedParameterStore()
    with fresh.as_default():
        yield fresh
