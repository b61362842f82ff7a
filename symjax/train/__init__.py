"""Training: the trainer, zero-shot evaluation, optimizers, checkpoints and partitioning.

* :func:`train` / :class:`TrainConfig` (:mod:`symjax.train.trainer`): the training loop,
  resumable, sharded over a ``data`` x ``model`` mesh; binary ``python -m symjax.train``.
* :func:`evaluate` / :class:`EvalConfig` (:mod:`symjax.train.zero_shot`): zero-shot eval
  of a checkpoint; binary ``python -m symjax.eval``.
* :func:`make_optimizer`, :func:`adafactor` (t5x's), :func:`adamw`,
  :func:`learning_rate_schedule` (:mod:`symjax.train.optimizers`).
* :class:`Checkpointer` (:mod:`symjax.train.checkpoints`), the jitted steps
  (:mod:`symjax.train.step`), the input pipeline (:mod:`symjax.train.data`).
* Partitioning rules and meshes (:mod:`symjax.train.partitioning`).

gin lives only in :mod:`symjax.train.binary`. Importing this package does not import
TensorFlow or seqio; building data or writing summaries does.
"""
from symjax.train.partitioning import (DATA, MESH_AXES, MODEL, RULES_1D, RULES_2D,
                                       RULES_2D_ACTIVATIONS, RULES_2D_PARAMETERS,
                                       LogicalAxisRules, batch_size_fits,
                                       check_config_fits_mesh, logical_sharding,
                                       logical_to_mesh_axes, make_mesh, param_shardings,
                                       parse_mesh_spec, sharding_context,
                                       standard_logical_axis_rules)
from symjax.train.optimizers import adafactor, adamw, learning_rate_schedule, make_optimizer
from symjax.train.checkpoints import Checkpointer, checkpoint_steps
from symjax.train.trainer import TrainConfig, TrainResult, load_model_params, train
from symjax.train.zero_shot import EvalConfig, evaluate

__all__ = [
    "DATA", "MODEL", "MESH_AXES", "LogicalAxisRules",
    "RULES_1D", "RULES_2D_ACTIVATIONS", "RULES_2D_PARAMETERS", "RULES_2D",
    "standard_logical_axis_rules", "make_mesh", "parse_mesh_spec",
    "logical_to_mesh_axes", "logical_sharding", "param_shardings",
    "check_config_fits_mesh", "batch_size_fits", "sharding_context",
    "adafactor", "adamw", "learning_rate_schedule", "make_optimizer",
    "Checkpointer", "checkpoint_steps",
    "TrainConfig", "TrainResult", "train", "load_model_params", "EvalConfig", "evaluate",
]
