"""The public surface of ``ts.layers``: ``__all__``, TF1's signatures and defaults (recorded from
``tf.compat.v1.layers`` in tests/data/layers/signatures.json), documented examples, type hints."""

import inspect
import json
import os

import pytest

import torchscope as ts
from torchscope import layers

with open(os.path.join(os.path.dirname(__file__), "data", "layers", "signatures.json")) as _f:
    TF_SIGNATURES = json.load(_f)["signatures"]


def test_layers_all_lists_every_public_name():
    public = {name for name in vars(layers) if not name.startswith("_")
              and not inspect.ismodule(getattr(layers, name))}
    assert set(layers.__all__) == public


def test_layers_all_is_the_set_of_tf1_layers_ported():
    assert sorted(layers.__all__) == sorted(TF_SIGNATURES)


def test_layers_is_a_public_submodule_of_torchscope():
    """DESIGN §1: users import ``torchscope`` and reach ``ts.layers`` (as ``tf.layers``)."""
    assert "layers" in ts.__all__
    assert ts.layers is layers


def _tf_style(default):
    """A default in signatures.json's form: plain values as JSON, other objects by class."""
    if default is None or isinstance(default, (bool, int, float, str)):
        return default
    if isinstance(default, tuple):
        return list(default)
    return {"class": type(default).__name__}


@pytest.mark.parametrize("name", sorted(TF_SIGNATURES))
def test_layer_signature_is_tf1s_argument_names_order_and_defaults(name):
    ours = []
    for p in inspect.signature(getattr(layers, name)).parameters.values():
        ours.append([p.name] if p.default is inspect.Parameter.empty
                    else [p.name, _tf_style(p.default)])
    assert ours == TF_SIGNATURES[name]


@pytest.mark.parametrize("name", sorted(TF_SIGNATURES))
def test_layer_docstring_opens_with_an_example_and_documents_args_returns_raises(name):
    doc = inspect.getdoc(getattr(layers, name))
    assert ">>> " in doc.split("Args:")[0]
    assert all(section in doc for section in ("Args:", "Returns:", "Raises:"))
    assert "LayerArgumentError" in doc.split("Raises:")[1]


@pytest.mark.parametrize("name", sorted(TF_SIGNATURES))
def test_layer_is_fully_type_annotated(name):
    signature = inspect.signature(getattr(layers, name))
    missing = [p.name for p in signature.parameters.values()
               if p.annotation is inspect.Parameter.empty]
    assert missing == [] and signature.return_annotation is not inspect.Signature.empty
