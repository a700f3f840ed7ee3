"""Which checkpoint a path means: prefixes, their files, directories and ``checkpoint`` files."""

import os
import pathlib
import re
import shutil

import pytest

from torchscope import checkpoint
from torchscope._errors import CheckpointFormatError, CheckpointNotFoundError

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "checkpoints")
MANY = os.path.join(DATA, "tf1_many_dtypes")
PREFIX = os.path.join(MANY, "model.ckpt")


@pytest.fixture
def ckpt_dir(tmp_path):
    """A copy of the many-dtypes checkpoint without its 'checkpoint' file."""
    for name in ("model.ckpt.index", "model.ckpt.data-00000-of-00001"):
        shutil.copy(os.path.join(MANY, name), tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("suffix", ["", ".index", ".data-00000-of-00001", ".meta"])
def test_prefix_and_each_of_its_files_open_the_same_checkpoint(suffix):
    assert checkpoint.load_checkpoint(PREFIX + suffix).prefix == PREFIX


def test_directory_opens_the_checkpoint_its_state_file_names():
    assert checkpoint.load_checkpoint(MANY).prefix == PREFIX


def test_pathlib_paths_are_accepted():
    assert checkpoint.list_variables(pathlib.Path(DATA) / "tf1_partitioned")[1][0] == "part/w"


def test_latest_checkpoint_joins_a_relative_path_to_the_directory(ckpt_dir):
    (ckpt_dir / "checkpoint").write_text('model_checkpoint_path: "model.ckpt"\n'
                                         'all_model_checkpoint_timestamps: 1700000000.5\n')
    assert checkpoint.latest_checkpoint(str(ckpt_dir)) == str(ckpt_dir / "model.ckpt")


def test_latest_checkpoint_of_a_stale_absolute_path_is_none_like_tf(ckpt_dir):
    (ckpt_dir / "checkpoint").write_text('model_checkpoint_path: "/gone/run1/model.ckpt"\n')
    assert checkpoint.latest_checkpoint(str(ckpt_dir)) is None


def test_load_checkpoint_of_a_stale_absolute_path_points_to_the_moved_prefix(ckpt_dir):
    (ckpt_dir / "checkpoint").write_text('model_checkpoint_path: "/gone/run1/model.ckpt"\n')
    moved = re.escape(str(ckpt_dir / "model.ckpt"))
    with pytest.raises(CheckpointNotFoundError, match=f"/gone/run1/model.ckpt, which does not "
                                                      f"exist(.|\n)*pass {moved}"):
        checkpoint.load_checkpoint(str(ckpt_dir))


def test_latest_checkpoint_without_a_state_file_is_none(ckpt_dir):
    assert checkpoint.latest_checkpoint(str(ckpt_dir)) is None
    assert checkpoint.latest_checkpoint(str(ckpt_dir / "no_such_dir")) is None


def test_latest_checkpoint_reads_a_custom_state_file_name_and_octal_escapes(ckpt_dir):
    os.rename(ckpt_dir / "model.ckpt.index", ckpt_dir / "mod\u00e9l.ckpt.index")
    os.rename(ckpt_dir / "model.ckpt.data-00000-of-00001",
              ckpt_dir / "mod\u00e9l.ckpt.data-00000-of-00001")
    (ckpt_dir / "state").write_text('model_checkpoint_path: "mod\\303\\251l.ckpt"\n')
    latest = checkpoint.latest_checkpoint(str(ckpt_dir), latest_filename="state")
    assert latest == str(ckpt_dir / "mod\u00e9l.ckpt")
    assert checkpoint.load_variable(latest, "global_step") == 42


def test_directory_without_a_state_file_raises_not_found(ckpt_dir):
    with pytest.raises(CheckpointNotFoundError,
                       match=re.escape(str(ckpt_dir)) + ": directory has no 'checkpoint' file"):
        checkpoint.load_checkpoint(str(ckpt_dir))


def test_malformed_state_file_raises_format_error_naming_it(ckpt_dir):
    (ckpt_dir / "checkpoint").write_text("model_checkpoint_path = model.ckpt\n")
    with pytest.raises(CheckpointFormatError,
                       match=re.escape(str(ckpt_dir / "checkpoint")) + ": line 1 is not"):
        checkpoint.latest_checkpoint(str(ckpt_dir))


def test_missing_prefix_raises_not_found_naming_the_index(tmp_path):
    missing = str(tmp_path / "model.ckpt-99")
    with pytest.raises(CheckpointNotFoundError,
                       match=re.escape(missing + ".index") + ": no such checkpoint"):
        checkpoint.load_checkpoint(missing)
    with pytest.raises(FileNotFoundError):  # TF1 code catching the builtin keeps working
        checkpoint.list_variables(missing)

