"""symjax: instruction tuning with symbolic tasks (SQL execution) for JAX/Flax and t5x/seqio.

Subpackages are imported on demand so that ``import symjax.sql`` stays light (no TensorFlow,
no JAX): ``symjax.sql`` (the data core), ``symjax.tasks`` (seqio), ``symjax.model`` (Flax T5),
``symjax.train`` (trainer).
"""
from symjax.errors import SymjaxError

__version__ = "0.1.0"
__all__ = ["SymjaxError", "__version__"]
