"""Helpers shared by the test modules (importable because conftest.py puts tests/ on sys.path)."""

import re

import torch

import torchscope as ts


def first_line(text):
    """A ``match=`` pattern pinning the whole first line of an error message."""
    return r"\A" + re.escape(text) + r"(?:\n|\Z)"


def op(name):
    """The name TF1 would give an op ``name`` created here (``tf.constant(0., name=name)``):
    name scopes and ops share TF's uniquification registry."""
    with ts.name_scope(name) as scope:
        return scope[:-1]


def exists_msg(name):
    """TF1's "already exists" sentence, in torchscope's spelling."""
    return (f"Variable {name} already exists, disallowed. Did you mean to set reuse=True or "
            "reuse=ts.AUTO_REUSE in VarScope?")


def missing_msg(name):
    """TF1's "does not exist" sentence, in torchscope's spelling."""
    return (f"Variable {name} does not exist, or was not created with ts.get_variable(). "
            "Did you mean to set reuse=ts.AUTO_REUSE in VarScope?")


def tower_module(store, reuse, shape=(2, 2)):
    """A ScopedModule computing ``x @ tower/w`` on ``store``: two of them (reuse False, then
    True) share one parameter."""
    def fn(x):
        with ts.variable_scope("tower", reuse=reuse):
            return x @ ts.get_variable("w", list(shape))
    return ts.ScopedModule.wrap(fn, store=store)


class SiameseMLP(ts.ScopedModule):
    """A two-layer siamese MLP (width 8) written TF1-style: both towers share ``tower/*``."""

    def tower(self, x, reuse):
        with ts.variable_scope("tower", reuse=reuse):
            for i in range(2):
                with ts.variable_scope(f"fc{i}"):
                    w = ts.get_variable("w", [8, 8])
                    b = ts.get_variable("b", [8], initializer=ts.zeros_initializer())
                    x = torch.tanh(x @ w + b)
            return x

    def forward(self, a, b):
        return self.tower(a, False), self.tower(b, True)
