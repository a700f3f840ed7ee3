"""Every error torchscope raises, in one place.

Policy (after Flax's ``flax/errors.py``):

* Each failure a user can cause has its own class here, named for the failure.
* Each class subclasses :class:`TorchscopeError` *and* the builtin that TensorFlow 1 raised for the
  same failure (``ValueError``, ``TypeError``, ``RuntimeError``), so ``except ValueError`` in ported
  code keeps working. None of them is based on ``KeyError``: it mangles multi-line messages.
* A message opens with TF1's own sentence (users grep for "already exists" and "Trying to share
  variable"), naming the full scoped variable name; then it says why, and how to fix it.
* Messages are built here, by the class, from structured arguments, so every wording lives in this
  file and tests pin it.
* A call that raises changes nothing: no store, scope stack, module or file is left half-done.

The hierarchy::

    TorchscopeError
    ├── VariableExistsError          (ValueError)   "already exists"
    ├── VariableNotFoundError        (ValueError)   "does not exist"
    ├── ShapeMismatchError           (ValueError)   "Trying to share variable ..., but specified shape"
    ├── DTypeMismatchError           (ValueError)   "Trying to share variable ..., but specified dtype"
    ├── InitializerError             (ValueError)   initializer / shape / dtype disagreements
    ├── InitializerTypeError         (TypeError)    an initializer value that is not a tensor
    ├── InvalidShapeError            (ValueError, TypeError)
    ├── InvalidDTypeError            (TypeError)
    ├── InvalidNameError             (ValueError)   "is not a valid (root) scope name"
    ├── InvalidReuseError            (ValueError)
    ├── ScopeArgumentError           (TypeError)
    ├── ScopeNestingError            (RuntimeError)
    ├── CustomGetterError            (ValueError)
    ├── VariableArgumentError        (ValueError)   synchronization, aggregation, caching_device, ...
    ├── PartitionerError             (ValueError)
    ├── RegularizerError             (ValueError)
    ├── TemplateError                (ValueError)
    ├── PassError                    (ValueError)   ScopedModule pass rules
    ├── StateDictError               (RuntimeError) like torch's load_state_dict errors
    ├── CheckpointNotFoundError      (FileNotFoundError)
    ├── CheckpointFormatError        (ValueError)
    │   ├── CheckpointChecksumError
    │   └── UnsupportedCheckpointError
    ├── TensorNotFoundError          (ValueError)
    ├── AssignmentMapError           (ValueError)
    └── LayerArgumentError           (ValueError)
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = [
    "TorchscopeError",
    "VariableExistsError",
    "VariableNotFoundError",
    "ShapeMismatchError",
    "DTypeMismatchError",
    "InitializerError",
    "InitializerTypeError",
    "InvalidShapeError",
    "InvalidDTypeError",
    "InvalidNameError",
    "InvalidReuseError",
    "ScopeArgumentError",
    "ScopeNestingError",
    "CustomGetterError",
    "VariableArgumentError",
    "PartitionerError",
    "RegularizerError",
    "TemplateError",
    "PassError",
    "StateDictError",
    "CheckpointNotFoundError",
    "CheckpointFormatError",
    "CheckpointChecksumError",
    "UnsupportedCheckpointError",
    "TensorNotFoundError",
    "AssignmentMapError",
    "LayerArgumentError",
]

ROOT_NAME_PATTERN = r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$"
NESTED_NAME_PATTERN = r"^[A-Za-z0-9_.\\/>-]*$"


def _compose(what: str, why: str = "", fix: str = "", where: str = "") -> str:
    """Lays a message out as: TF1's sentence, where, why, fix (each part optional)."""
    parts = [what]
    if where:
        parts.append(where)
    if why:
        parts.append(why)
    if fix:
        parts.append("Fix: " + fix)
    return "\n\n".join(parts)


class TorchscopeError(Exception):
    """Base class of every error torchscope raises.

    Catch it to handle any torchscope failure; catch the builtin (``ValueError``, ...) to keep
    TF1-ported ``except`` clauses working.
    """


# --------------------------------------------------------------------------------------------
# Variables: create / reuse


class VariableExistsError(TorchscopeError, ValueError):
    """A variable would be created twice in one scope without reuse.

    Wrong::

        with ts.variable_scope("tower"):
            w = ts.get_variable("w", [3])
        with ts.variable_scope("tower"):
            w = ts.get_variable("w", [3])          # raises

    Right — share it explicitly::

        with ts.variable_scope("tower", reuse=True):   # or reuse=ts.AUTO_REUSE
            w = ts.get_variable("w", [3])
    """

    def __init__(self, name: str, origin: str = "", partitioned: bool = False) -> None:
        if partitioned:
            what = (f"Partitioned variable with name {name} already exists. Did you mean to set "
                    "reuse=True or reuse=ts.AUTO_REUSE in VarScope?")
        else:
            what = (f"Variable {name} already exists, disallowed. Did you mean to set reuse=True "
                    "or reuse=ts.AUTO_REUSE in VarScope?")
        where = f"Originally defined at:\n{origin}" if origin else ""
        super().__init__(_compose(
            what,
            why="The scope does not reuse variables (reuse=None/False), so get_variable creates; "
                "creating the same name twice would silently give two parameters where one was meant.",
            fix="enter the scope with reuse=True to share the variable, or reuse=ts.AUTO_REUSE to "
                "get-or-create it; or give the second variable another name.",
            where=where))
        self.name = name


class VariableNotFoundError(TorchscopeError, ValueError):
    """A reusing scope asked for a variable that was never created.

    Wrong::

        with ts.variable_scope("tower", reuse=True):
            w = ts.get_variable("w", [3])          # raises: nothing created tower/w yet

    Right::

        with ts.variable_scope("tower"):
            w = ts.get_variable("w", [3])          # create first ...
        with ts.variable_scope("tower", reuse=True):
            w2 = ts.get_variable("w", [3])         # ... then share
        # or, when either may come first: reuse=ts.AUTO_REUSE
    """

    def __init__(self, name: str, partitioned: bool = False) -> None:
        if partitioned:
            what = (f"PartitionedVariable {name} does not exist, or was not created with "
                    "ts.get_variable(). Did you mean to set reuse=False or reuse=ts.AUTO_REUSE in "
                    "VarScope?")
        else:
            what = (f"Variable {name} does not exist, or was not created with ts.get_variable(). "
                    "Did you mean to set reuse=ts.AUTO_REUSE in VarScope?")
        super().__init__(_compose(
            what,
            why="The scope has reuse=True, which only returns variables made earlier by "
                "get_variable (ts.Variable objects are not shareable by name).",
            fix="create the variable first in a scope without reuse, or use reuse=ts.AUTO_REUSE "
                "to get-or-create; check the scope name for a typo."))
        self.name = name


class ShapeMismatchError(TorchscopeError, ValueError):
    """A reused variable was asked for with a shape it does not have.

    Wrong::

        with ts.variable_scope("s"):
            ts.get_variable("w", [3, 4])
        with ts.variable_scope("s", reuse=True):
            ts.get_variable("w", [4, 3])           # raises

    Right::

        with ts.variable_scope("s", reuse=True):
            ts.get_variable("w", [3, 4])           # or [None, 4], or no shape at all
    """

    def __init__(self, name: str, shape: Any, found: Any, partitioned: bool = False) -> None:
        verb = "reuse partitioned variable" if partitioned else "share variable"
        super().__init__(_compose(
            f"Trying to {verb} {name}, but specified shape {shape} and found shape {found}.",
            why="A shared variable keeps the shape it was created with; a None dimension or "
                "shape=None matches any size.",
            fix="pass the shape the variable was created with, or give the differently shaped "
                "variable its own name."))
        self.name = name


class DTypeMismatchError(TorchscopeError, ValueError):
    """A reused variable was asked for with another dtype.

    ``dtype`` defaults to the scope's dtype (float32 at the root), so this also fires when an
    int32 variable is reused without ``dtype=torch.int32``.

    Wrong::

        ts.get_variable("step", [], dtype=torch.int32)
        ts.get_variable_scope().reuse_variables()
        ts.get_variable("step", [])                # raises: float32 requested

    Right::

        ts.get_variable("step", [], dtype=torch.int32)
    """

    def __init__(self, name: str, dtype: str, found: str, partitioned: bool = False) -> None:
        verb = "reuse partitioned variable" if partitioned else "share variable"
        super().__init__(_compose(
            f"Trying to {verb} {name}, but specified dtype {dtype} and found dtype {found}.",
            why="The requested dtype (the scope's dtype when dtype=None) must be the one the "
                "variable was declared with; later .to()/.half() conversions do not count.",
            fix=f"pass dtype={found} when sharing this variable."))
        self.name = name


class InitializerError(TorchscopeError, ValueError):
    """An initializer, shape and dtype that do not fit together.

    Wrong::

        ts.get_variable("w", [2], initializer=torch.ones(2))   # a value *and* a shape

    Right::

        ts.get_variable("w", initializer=torch.ones(2))        # the value gives the shape
        ts.get_variable("w", [2], initializer=ts.ones_initializer())
    """

    @classmethod
    def constant_with_shape(cls, name: str) -> "InitializerError":
        return cls(_compose(
            "If initializer is a constant, do not specify shape.",
            why=f"Variable {name}: a tensor, array or number as initializer already fixes the "
                "shape (this includes a constant set on an enclosing variable_scope).",
            fix="drop the shape argument, or pass a callable initializer such as "
                "ts.constant_initializer(value)."))

    @classmethod
    def dtype_mismatch(cls, name: str, value_dtype: str, dtype: str) -> "InitializerError":
        """``value_dtype``/``dtype``: dtype names such as ``float64`` (TF's DType repr is
        rebuilt for the first line)."""
        return cls(_compose(
            f"Initializer type '<dtype: '{value_dtype}'>' and explicit dtype "
            f"'<dtype: '{dtype}'>' don't match.",
            why=f"Variable {name}: a constant initializer's dtype must equal an explicit dtype "
                "exactly, as in TF1.",
            fix=f"convert the value first (e.g. torch.as_tensor(value, dtype=torch.{dtype})) or "
                "drop the dtype argument."))

    @classmethod
    def missing_shape(cls, name: str) -> "InitializerError":
        return cls(_compose(
            f"Variable {name} did not get an initializer, so its `shape` argument must be "
            "specified.",
            why="Without an initializer the default one (glorot_uniform for floats, zeros "
                "otherwise) needs a shape to fill.",
            fix="pass shape=[...], or an initializer value whose shape is the variable's."))

    @classmethod
    def not_valid(cls, name: str, shape: Any) -> "InitializerError":
        return cls(_compose(
            "The initializer passed is not valid. It should be a callable with no arguments and "
            "the shape should not be provided or an instance of `ts.initializers.*' and `shape` "
            "should be fully defined.",
            why=f"Variable {name}: shape {shape} is not fully defined, so the initializer cannot "
                "be called with it.",
            fix="give every dimension a size, or pass a zero-argument callable that returns the "
                "value."))

    @classmethod
    def required(cls, name: str, dtype: str) -> "InitializerError":
        return cls(_compose(
            f"An initializer for variable {name} of {dtype} is required",
            why="There is no default initializer for this dtype (TF1 has defaults only for "
                "floating, integer and bool dtypes).",
            fix="pass initializer=..., e.g. ts.zeros_initializer()."))

    @classmethod
    def bad_result(cls, name: str, expected: Any, got: Any) -> "InitializerError":
        return cls(_compose(
            f"The initializer of variable {name} returned a tensor of shape {got}, but the "
            f"variable has shape {expected}.",
            why="A callable initializer is called as initializer(shape, dtype=dtype) and must "
                "return exactly that shape.",
            fix="make the initializer honour its shape argument."))

    @classmethod
    def bad_argument(cls, what: str, fix: str) -> "InitializerError":
        return cls(_compose(what, fix=fix))


class InitializerTypeError(TorchscopeError, TypeError):
    """An initializer that is neither callable nor convertible to a tensor.

    Wrong::

        ts.get_variable("w", initializer={})

    Right::

        ts.get_variable("w", initializer=[1.0, 2.0])
    """

    def __init__(self, name: str, value: Any) -> None:
        super().__init__(_compose(
            f"Failed to convert elements of {value!r} to Tensor. Consider casting elements to a "
            "supported type.",
            why=f"Variable {name}: an initializer that is not callable is used as the variable's "
                "value, so it must convert with torch.as_tensor.",
            fix="pass a number, a (nested) list of numbers, a numpy array, a tensor, or a "
                "callable initializer."))

    @classmethod
    def bad_argument(cls, what: str, fix: str) -> "InitializerTypeError":
        """An initializer argument of the wrong type (TF1 raised TypeError for these)."""
        error = cls.__new__(cls)
        TypeError.__init__(error, _compose(what, fix=fix))
        return error


class InvalidShapeError(TorchscopeError, ValueError, TypeError):
    """A shape with a negative or non-integer dimension.

    Both ``ValueError`` (TF1 for negative sizes) and ``TypeError`` (TF1 for non-integers) catch it.

    Wrong::

        ts.get_variable("w", [3, -1])
        ts.get_variable("w", [2.5])

    Right::

        ts.get_variable("w", [3, 4])
    """

    def __init__(self, name: str, shape: Any, problem: str) -> None:
        super().__init__(_compose(
            f"Invalid shape {shape!r} for variable {name}: {problem}.",
            why="A shape is a list of non-negative ints (None for an unknown size when reusing).",
            fix="pass e.g. [784, 256]; use None only for dimensions a reusing call leaves open."))
        self.name = name


class InvalidDTypeError(TorchscopeError, TypeError):
    """A dtype torchscope cannot turn into a ``torch.dtype``.

    Wrong::

        ts.get_variable("s", [], dtype="string")   # torch has no string tensors

    Right::

        ts.get_variable("s", [], dtype=torch.int64)
    """

    def __init__(self, dtype: Any, why: str = "") -> None:
        super().__init__(_compose(
            f"Cannot convert {dtype!r} to a torch dtype.",
            why=why or "dtype must be a torch.dtype, a numpy dtype or a dtype name such as "
                       "'float32'.",
            fix="pass e.g. torch.float32 (TF1's tf.float32)."))


class InvalidNameError(TorchscopeError, ValueError):
    """A scope or variable name with characters TF1 does not allow.

    Wrong::

        ts.variable_scope("_hidden")      # root names must start with a letter, digit or '.'
        ts.get_variable("v:0", [1])       # ':' is not allowed

    Right::

        ts.variable_scope("hidden")
        ts.get_variable("v", [1])
    """

    @classmethod
    def root(cls, name: str) -> "InvalidNameError":
        return cls(_compose(
            f"'{name}' is not a valid root scope name. A root scope name has to match the "
            f"following pattern: {ROOT_NAME_PATTERN}",
            fix="use letters, digits and '.', '_', '-', '/', '>' only, starting with a letter, "
                "digit or '.'; names have no ':0' suffix in torchscope."))

    @classmethod
    def nested(cls, name: str) -> "InvalidNameError":
        return cls(_compose(
            f"'{name}' is not a valid scope name. A scope name has to match the following "
            f"pattern: {NESTED_NAME_PATTERN}",
            fix="use letters, digits and '.', '_', '-', '/', '>' only."))

    @classmethod
    def not_a_string(cls, name: Any) -> "InvalidNameError":
        return cls(_compose(
            f"A variable name must be a string, got {name!r} of type {type(name).__name__}.",
            fix="pass the name as a str, e.g. ts.get_variable('w', [3])."))


class InvalidReuseError(TorchscopeError, ValueError):
    """A reuse value TF1 does not accept, or reuse with an anonymous scope.

    Wrong::

        ts.variable_scope("s", reuse=1)
        ts.variable_scope(None, default_name="d", reuse=True)

    Right::

        ts.variable_scope("s", reuse=True)      # True, False, None or ts.AUTO_REUSE
        ts.variable_scope("d", reuse=True)      # name the scope to reuse it
    """

    @classmethod
    def bad_value(cls, value: Any) -> "InvalidReuseError":
        return cls(_compose(
            "The reuse parameter must be True or False or None.",
            why=f"Got {value!r}; the check is by identity, so 1 or 'yes' are refused.",
            fix="pass reuse=True, reuse=False/None (inherit) or reuse=ts.AUTO_REUSE."))

    @classmethod
    def without_name(cls) -> "InvalidReuseError":
        return cls(_compose(
            "reuse=True cannot be used without a name_or_scope",
            why="A default_name scope gets a fresh unique name on every entry, so there is "
                "nothing to reuse (this applies to ts.AUTO_REUSE too).",
            fix="pass the scope's name (or the VariableScope object) as name_or_scope."))


class ScopeArgumentError(TorchscopeError, TypeError):
    """A ``variable_scope`` argument of the wrong type.

    Wrong::

        ts.variable_scope(None)
        ts.variable_scope(3)
        ts.variable_scope("s", auxiliary_name_scope="no")

    Right::

        ts.variable_scope(None, default_name="dense")
        ts.variable_scope("s", auxiliary_name_scope=False)
    """

    @classmethod
    def no_name(cls) -> "ScopeArgumentError":
        return cls(_compose(
            "If default_name is None then name_or_scope is required",
            fix="pass a name, a VariableScope, or default_name='...'."))

    @classmethod
    def bad_scope_type(cls, value: Any) -> "ScopeArgumentError":
        return cls(_compose(
            "VariableScope: name_or_scope must be a string or VariableScope.",
            why=f"Got {value!r} of type {type(value).__name__}.",
            fix="pass a str such as 'tower', or the object a `with ts.variable_scope(...) as s:` "
                "gave you."))

    @classmethod
    def bad_auxiliary(cls, value: Any) -> "ScopeArgumentError":
        return cls(_compose(
            f"The auxiliary_name_scope must be `True` or `False`, while get {value}",
            fix="pass a bool."))

    @classmethod
    def bad_argument(cls, what: str, fix: str) -> "ScopeArgumentError":
        return cls(_compose(what, fix=fix))


class ScopeNestingError(TorchscopeError, RuntimeError):
    """Scopes (or default stores) exited in another order than they were entered.

    Wrong::

        a = ts.variable_scope("a"); a.__enter__()
        b = ts.variable_scope("b"); b.__enter__()
        a.__exit__(None, None, None)              # raises: b is still open

    Right: use ``with`` blocks, which always exit innermost first.
    """

    @classmethod
    def variable_scope(cls) -> "ScopeNestingError":
        return cls(_compose(
            "Improper nesting of variable_scope.",
            why="The scope being exited is not the innermost open one.",
            fix="use `with` blocks, or exit manually entered scopes innermost first."))

    @classmethod
    def other(cls, what: str) -> "ScopeNestingError":
        return cls(_compose(what, fix="use `with` blocks so contexts exit innermost first."))


class CustomGetterError(TorchscopeError, ValueError):
    """A ``custom_getter`` that is not callable.

    Wrong::

        with ts.variable_scope("s", custom_getter=3): ...

    Right::

        def getter(getter, name, *args, **kwargs):
            return getter(name, *args, **kwargs)
        with ts.variable_scope("s", custom_getter=getter): ...
    """

    def __init__(self, getter: Any) -> None:
        super().__init__(_compose(
            f"Passed a custom_getter which is not callable: {getter!r}",
            fix="pass a function getter(getter, name, *args, **kwargs) that calls getter(...)."))


class VariableArgumentError(TorchscopeError, ValueError):
    """Another argument of ``get_variable`` / ``Variable`` that cannot be honoured.

    Wrong::

        ts.get_variable("w", [1], synchronization="sometimes")

    Right::

        ts.get_variable("w", [1], synchronization=ts.VariableSynchronization.ON_READ)
    """

    @classmethod
    def synchronization(cls, value: Any, name: str) -> "VariableArgumentError":
        return cls(_compose(
            f"Invalid variable synchronization mode: {value} for variable: {name}",
            fix="pass a ts.VariableSynchronization member."))

    @classmethod
    def aggregation(cls, value: Any, name: str) -> "VariableArgumentError":
        return cls(_compose(
            f"Invalid variable aggregation mode: {value} for variable: {name}",
            fix="pass a ts.VariableAggregation member."))

    @classmethod
    def other(cls, what: str, why: str = "", fix: str = "") -> "VariableArgumentError":
        return cls(_compose(what, why=why, fix=fix))


class PartitionerError(TorchscopeError, ValueError):
    """A partitioner that returns an unusable partitioning, or partitioned/whole mix-ups.

    torchscope stores a partitioned variable whole (sharding is FSDP's job) but keeps TF1's
    checks, so ported code fails where TF1 failed.

    Wrong::

        ts.get_variable("w", [4, 4], partitioner=lambda shape, dtype: [2, 2])

    Right::

        ts.get_variable("w", [4, 4], partitioner=ts.fixed_size_partitioner(2))
    """

    @classmethod
    def make(cls, what: str, fix: str = "") -> "PartitionerError":
        return cls(_compose(what, fix=fix or "see ts.fixed_size_partitioner for a valid partitioner."))


class RegularizerError(TorchscopeError, ValueError):
    """A regularizer factory given an invalid scale.

    Wrong::

        ts.regularizers.l2(-0.1)

    Right::

        ts.regularizers.l2(0.1)
    """

    @classmethod
    def make(cls, what: str, fix: str) -> "RegularizerError":
        return cls(_compose(what, fix=fix))


class TemplateError(TorchscopeError, ValueError):
    """``make_template`` misuse.

    Wrong::

        def f():
            return ts.Variable(torch.zeros(1))    # a new trainable variable on every call
        t = ts.make_template("t", f)
        t(); t()                                  # the second call raises

    Right::

        def f():
            return ts.get_variable("v", [1])       # shared by name on later calls
    """

    @classmethod
    def no_name(cls) -> "TemplateError":
        return cls(_compose("name cannot be None.", fix="pass make_template('name', func)."))

    @classmethod
    def new_trainable(cls, names: Sequence[str]) -> "TemplateError":
        listing = "[" + ", ".join(f"<ts.Variable '{n}'>" for n in names) + "]"
        return cls(_compose(
            "Trainable variable created when calling a template after the first time, perhaps "
            f"you used ts.Variable when you meant ts.get_variable: {listing}",
            why="A template creates its variables on the first call and shares them afterwards; "
                "a trainable variable created later would not be shared and an optimizer built "
                "after the first call would never see it.",
            fix="create variables with ts.get_variable inside the template."))


class PassError(TorchscopeError, ValueError):
    """A ``ScopedModule`` pass broke the build-then-reuse contract.

    The first forward call (or ``module.build(...)``) creates and registers every variable; later
    passes only reuse them, so an optimizer built after the first call sees every parameter.

    Wrong::

        class Net(ts.ScopedModule):
            def forward(self, x, deep=False):
                h = x @ ts.get_variable("w1", [4, 4])
                if deep:
                    h = h @ ts.get_variable("w2", [4, 4])   # first seen in a later pass: raises
                return h

    Right: build with inputs that take every branch (``net.build(x, deep=True)``), or create all
    variables unconditionally.
    """

    @classmethod
    def new_trainable(cls, name: str, module: str) -> "PassError":
        return cls(_compose(
            f"Trainable variable {name} created when calling {module} after the first time.",
            why="The first pass (the first call or module.build) creates and registers every "
                "trainable variable; one created later would be missing from optimizers, DDP and "
                "compiled graphs built after the first call.",
            fix="build the module with inputs that run every branch (module.build(...)), or "
                "create the variable unconditionally in forward."))

    @classmethod
    def make(cls, what: str, why: str = "", fix: str = "") -> "PassError":
        return cls(_compose(what, why=why, fix=fix))


class StateDictError(TorchscopeError, RuntimeError):
    """A state dict that does not match the store or module it is loaded into.

    Wrong::

        store.load_state_dict({"tower/w": torch.zeros(5)})    # tower/w has shape (3,)

    Right::

        store.load_state_dict({"tower/w": torch.zeros(3)})
    """

    @classmethod
    def make(cls, what: str, why: str = "", fix: str = "") -> "StateDictError":
        return cls(_compose(what, why=why, fix=fix))


# --------------------------------------------------------------------------------------------
# Checkpoints


class CheckpointNotFoundError(TorchscopeError, FileNotFoundError):
    """A checkpoint path, index or data shard that is not on disk.

    Wrong::

        ts.checkpoint.load_checkpoint("runs/model.ckpt-99")    # no such prefix

    Right::

        ts.checkpoint.load_checkpoint(ts.checkpoint.latest_checkpoint("runs"))
    """

    @classmethod
    def make(cls, path: str, what: str, fix: str = "") -> "CheckpointNotFoundError":
        return cls(_compose(f"{path}: {what}", fix=fix or
                            "pass a checkpoint prefix (model.ckpt), its .index file, or a "
                            "directory with a 'checkpoint' file."))


class CheckpointFormatError(TorchscopeError, ValueError):
    """A checkpoint file that is malformed: truncated, wrong magic, bad offsets or sizes.

    The message names the file and what was wrong at which offset.
    """

    @classmethod
    def make(cls, path: str, what: str, fix: str = "") -> "CheckpointFormatError":
        return cls(_compose(f"{path}: {what}", fix=fix or
                            "the file is damaged or not a TensorFlow V2 checkpoint; re-export "
                            "or re-copy it."))


class CheckpointChecksumError(CheckpointFormatError):
    """A CRC32C mismatch in an index block or a tensor's data: the file was corrupted."""


class UnsupportedCheckpointError(CheckpointFormatError):
    """A checkpoint torchscope recognises but cannot read (TF V1 format, an unknown dtype)."""


class TensorNotFoundError(TorchscopeError, ValueError):
    """A tensor name that the checkpoint does not hold.

    Wrong::

        reader.get_tensor("dense/kernel:0")     # checkpoint keys have no ':0'

    Right::

        reader.get_tensor("dense/kernel")
    """

    @classmethod
    def make(cls, path: str, name: str, close: Sequence[str] = ()) -> "TensorNotFoundError":
        hint = ("Similar names: " + ", ".join(close)) if close else ""
        return cls(_compose(
            f"{path}: Key {name} not found in checkpoint",
            why=hint,
            fix="list the keys with ts.checkpoint.list_variables(path) (checkpoint keys have no "
                "':0' suffix)."))


class AssignmentMapError(TorchscopeError, ValueError):
    """An ``init_from_checkpoint`` assignment map that cannot be applied.

    Nothing is copied when this is raised: the whole map is validated first.
    """

    @classmethod
    def make(cls, what: str, why: str = "", fix: str = "") -> "AssignmentMapError":
        return cls(_compose(what, why=why, fix=fix))


class LayerArgumentError(TorchscopeError, ValueError):
    """A ``ts.layers`` argument TF1 does not accept (padding, data_format, ...).

    Wrong::

        ts.layers.conv2d(x, 8, 3, padding="full")

    Right::

        ts.layers.conv2d(x, 8, 3, padding="same")
    """

    @classmethod
    def make(cls, what: str, fix: str) -> "LayerArgumentError":
        return cls(_compose(what, fix=fix))
