"""symjax.tasks: seqio Tasks and Mixtures, benchmark readers, prompts and metrics.

``import symjax.tasks`` registers every Task and Mixture (names start with ``symjax_``)
with seqio, as t5x gin files expect (``import symjax.tasks`` at the top of a gin file).
Registering is cheap: no file is read and no vocabulary is loaded until a dataset is asked
for. What is registered, the settings (vocabulary, data directory, prompt selection) and
their environment variables are documented in :mod:`symjax.tasks.registry` and
:mod:`symjax.tasks.settings`.

The pure-Python parts (:mod:`~symjax.tasks.metrics`, :mod:`~symjax.tasks.wtq_evaluator`,
the readers in :mod:`~symjax.tasks.table_qa`, :mod:`~symjax.tasks.wikisql`,
:mod:`~symjax.tasks.general`, and :mod:`~symjax.tasks.prompts`) need neither seqio nor
TensorFlow. Without seqio installed, ``import symjax.tasks`` registers nothing and the
seqio-only names raise an ImportError that says what to install. Setting
``SYMJAX_TASKS_REGISTER=0`` skips registration (and the TensorFlow import it implies) even
with seqio installed, which is what the command-line tools do.
"""
from __future__ import annotations

import os

from symjax.tasks.settings import (
    configure,
    data_dir,
    get_vocabulary,
    prompt_selection,
    set_data_dir,
    set_eval_prompt_config,
    set_flan_source,
    set_prompt_selection,
    set_split_files,
    set_vocabulary,
)

__all__ = [
    "configure",
    "data_dir",
    "get_vocabulary",
    "prompt_selection",
    "set_data_dir",
    "set_eval_prompt_config",
    "set_flan_source",
    "set_prompt_selection",
    "set_split_files",
    "set_vocabulary",
    "SEQIO_AVAILABLE",
    "REGISTERED",
]

REGISTERED: tuple[str, ...] = ()

try:  # seqio pulls in TensorFlow; only the registration needs it.
    if os.environ.get("SYMJAX_TASKS_REGISTER", "1").strip().lower() in ("0", "false", "no", "off"):
        raise ImportError("registration disabled by SYMJAX_TASKS_REGISTER=0")
    import seqio  # noqa: F401

    SEQIO_AVAILABLE = True
except ImportError as _e:  # pragma: no cover - depends on the environment
    SEQIO_AVAILABLE = False
    _SEQIO_ERROR = _e

if SEQIO_AVAILABLE:
    from symjax.tasks.registry import register_all

    REGISTERED = register_all()
