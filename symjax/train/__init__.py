"""Training: partitioning rules and meshes now; the trainer, optimizers and checkpoints next.

The flat surface re-exports :mod:`symjax.train.partitioning`.
"""
from symjax.train.partitioning import (DATA, MESH_AXES, MODEL, RULES_1D, RULES_2D,
                                       RULES_2D_ACTIVATIONS, RULES_2D_PARAMETERS,
                                       LogicalAxisRules, batch_size_fits,
                                       check_config_fits_mesh, logical_sharding,
                                       logical_to_mesh_axes, make_mesh, param_shardings,
                                       parse_mesh_spec, sharding_context,
                                       standard_logical_axis_rules)

__all__ = [
    "DATA", "MODEL", "MESH_AXES", "LogicalAxisRules",
    "RULES_1D", "RULES_2D_ACTIVATIONS", "RULES_2D_PARAMETERS", "RULES_2D",
    "standard_logical_axis_rules", "make_mesh", "parse_mesh_spec",
    "logical_to_mesh_axes", "logical_sharding", "param_shardings",
    "check_config_fits_mesh", "batch_size_fits", "sharding_context",
]
