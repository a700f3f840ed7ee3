"""torchscope: TensorFlow 1's variable sharing for PyTorch.

``tf.compat.v1.X`` → ``ts.X`` ports most TF1 lines: ``variable_scope``, ``get_variable``,
``AUTO_REUSE``, ``make_template``, collections and initializers behave as in TF1 graph mode, and
variables are ``nn.Parameter`` objects.

Example:
    >>> import torch, torchscope as ts
    >>> with ts.ScopedParameterStore().as_default():
    ...     with ts.variable_scope("tower"):
    ...         w = ts.get_variable("w", [3, 3])
    ...     with ts.variable_scope("tower", reuse=True):
    ...         assert ts.get_variable("w", [3, 3]) is w
"""

from . import checkpoint, initializers, layers, regularizers
from ._collections import (add_to_collection, add_to_collections, get_collection,
                           get_regularization_loss, get_regularization_losses, global_variables,
                           local_variables, model_variables, reset_default_graph,
                           trainable_variables)
from ._errors import (AssignmentMapError, CheckpointChecksumError, CheckpointFormatError,
                      CheckpointNotFoundError, CustomGetterError, DTypeMismatchError,
                      InitializerError, InitializerTypeError, InvalidDTypeError,
                      InvalidNameError, InvalidReuseError, InvalidShapeError, LayerArgumentError,
                      PartitionerError, PassError, RegularizerError, ScopeArgumentError,
                      ScopeNestingError, ShapeMismatchError, StateDictError, TemplateError,
                      TensorNotFoundError, TorchscopeError, UnsupportedCheckpointError,
                      VariableArgumentError, VariableExistsError, VariableNotFoundError)
from ._compile import guard_filter
from ._module import ScopedModule
from ._safetensors import load_safetensors, save_safetensors
from ._sharing import sharing_groups
from ._summary import Summary, summary
from ._partition import (fixed_size_partitioner, min_max_variable_partitioner,
                         variable_axis_size_partitioner)
from ._scope import (get_name_scope, get_variable_scope, name_scope, variable_creator_scope,
                     variable_scope)
from ._scope_object import AUTO_REUSE, VariableScope
from ._store import GraphKeys, ScopedParameterStore, get_default_store
from ._template import Template, make_template
from ._types import VariableAggregation, VariableSynchronization
from ._values import PartitionInfo
from ._variables import Variable, get_local_variable, get_variable
from .initializers import Constant as constant_initializer
from .initializers import GlorotNormal as glorot_normal_initializer
from .initializers import GlorotUniform as glorot_uniform_initializer
from .initializers import Ones as ones_initializer
from .initializers import Orthogonal as orthogonal_initializer
from .initializers import RandomNormal as random_normal_initializer
from .initializers import RandomUniform as random_uniform_initializer
from .initializers import TruncatedNormal as truncated_normal_initializer
from .initializers import UniformUnitScaling as uniform_unit_scaling_initializer
from .initializers import VarianceScaling as variance_scaling_initializer
from .initializers import Zeros as zeros_initializer
from .regularizers import no_regularizer

__version__ = "0.1.0.dev0"

__all__ = [
    # scopes
    "AUTO_REUSE", "VariableScope", "get_name_scope", "get_variable_scope", "name_scope", "variable_creator_scope", "variable_scope",
    # variables
    "PartitionInfo", "Variable", "VariableAggregation", "VariableSynchronization",
    "get_local_variable", "get_variable", "Template", "make_template",
    "fixed_size_partitioner", "min_max_variable_partitioner", "variable_axis_size_partitioner",
    # the store and collections
    "GraphKeys", "ScopedParameterStore", "add_to_collection", "add_to_collections",
    "get_collection", "get_default_store", "get_regularization_loss",
    "get_regularization_losses", "global_variables", "local_variables", "model_variables",
    "reset_default_graph", "trainable_variables",
    # initializers and regularizers (submodules and TF1 spellings)
    "checkpoint", "initializers", "layers", "regularizers", "constant_initializer", "glorot_normal_initializer",
    "glorot_uniform_initializer", "no_regularizer", "ones_initializer", "orthogonal_initializer",
    "random_normal_initializer", "random_uniform_initializer", "truncated_normal_initializer",
    "uniform_unit_scaling_initializer", "variance_scaling_initializer", "zeros_initializer",
    # the shim
    "ScopedModule", "Summary", "guard_filter", "load_safetensors", "save_safetensors",
    "sharing_groups", "summary",
    # errors
    "AssignmentMapError", "CheckpointChecksumError", "CheckpointFormatError",
    "CheckpointNotFoundError", "CustomGetterError", "DTypeMismatchError", "InitializerError",
    "InitializerTypeError", "InvalidDTypeError", "InvalidNameError", "InvalidReuseError",
    "InvalidShapeError", "LayerArgumentError", "PartitionerError", "PassError",
    "RegularizerError", "ScopeArgumentError", "ScopeNestingError", "ShapeMismatchError",
    "StateDictError", "TemplateError", "TensorNotFoundError", "TorchscopeError",
    "UnsupportedCheckpointError", "VariableArgumentError", "VariableExistsError",
    "VariableNotFoundError",
]
