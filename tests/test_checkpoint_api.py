"""The public surface of ``ts.checkpoint``: its ``__all__``, TF's spellings, documented examples."""

import inspect

from torchscope import checkpoint

TF_SPELLINGS = {"CheckpointReader", "latest_checkpoint", "list_variables", "load_checkpoint",
                "load_variable"}


def test_all_lists_every_public_name_including_tf_spellings():
    public = {name for name in vars(checkpoint) if not name.startswith("_")
              and not inspect.ismodule(getattr(checkpoint, name))}
    assert set(checkpoint.__all__) == public
    assert TF_SPELLINGS <= public


def test_reader_api_docs_open_with_an_example():
    documented = [getattr(checkpoint, name) for name in sorted(TF_SPELLINGS)]
    documented += [member for name, member in vars(checkpoint.CheckpointReader).items()
                   if not name.startswith("_") and callable(member)]
    for obj in documented:
        doc = inspect.getdoc(obj) or ""
        assert ">>> " in doc.split("Args:")[0].split("Raises:")[0], obj
