"""symjax: instruction tuning with symbolic tasks (SQL execution) for JAX/Flax and t5x/seqio.

Subpackages are imported on demand so that ``import symjax.sql`` stays light (no TensorFlow,
no JAX): ``symjax.sql`` (the data core), ``symjax.tasks`` (seqio), ``symjax.model`` (Flax T5),
``symjax.train`` (trainer).
"""
import os

from symjax.errors import SymjaxError

__version__ = "0.1.0"
__all__ = ["SymjaxError", "__version__", "gin_search_path"]


def gin_search_path() -> str:
    """The directory holding symjax's ``gin/`` configs: the installed package (a wheel
    carries them as ``symjax/gin``) or, in a checkout, the repository root. Give it to t5x as
    ``--gin_search_paths`` so ``--gin_file=gin/t5x/...`` and the configs' includes resolve."""
    package = os.path.dirname(os.path.abspath(__file__))
    if os.path.isdir(os.path.join(package, "gin")):
        return package
    return os.path.dirname(package)
