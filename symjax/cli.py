"""Console scripts of the tools (``symjax-convert``, ``symjax-generate``, ...).

The tools are plain absl scripts in the checkout's ``tools/`` (``python tools/X.py``); the
wheel carries them as ``symjax.tools`` (see ``setup.py``) and each console script below runs
one of them exactly as ``python tools/X.py`` would: its flags are defined when its module is
imported, then ``absl.app.run`` calls its ``main``.

==========================  =================================  ==============================
console script              tool                               what
==========================  =================================  ==============================
``symjax-train``            ``python -m symjax.train``         train (gin)
``symjax-eval``             ``python -m symjax.eval``          zero-shot eval (gin)
``symjax-predict``          ``python -m symjax.predict``       answer questions on a table
``symjax-convert``          ``tools/convert_checkpoint.py``    weights in and out (HF, t5x)
``symjax-generate``         ``tools/generate_sql_data.py``     SQL-execution data files
``symjax-evaluate``         ``tools/evaluate_predictions.py``  score a predictions file
``symjax-memory``           ``tools/memory_report.py``         memory of a training step
``symjax-select-prompts``   ``tools/select_prompts.py``        pick a template per benchmark
``symjax-warmup``           ``python -m symjax.sql.warmup``    compile the numba kernels once
==========================  =================================  ==============================
"""
from __future__ import annotations

import importlib
from typing import Callable

__all__ = ["TOOLS", "run_tool", "show_flags_in_help", "convert", "generate", "evaluate", "memory", "select_prompts"]

# console-script function -> module of symjax.tools (the checkout's tools/<module>.py)
TOOLS = {
    "convert": "convert_checkpoint",
    "generate": "generate_sql_data",
    "evaluate": "evaluate_predictions",
    "memory": "memory_report",
    "select_prompts": "select_prompts",
}


def show_flags_in_help(module: str) -> None:
    """Make the flags ``module`` defines the ones ``--help`` lists: absl lists those of the
    main script, which for a console script is a generated wrapper that defines none."""
    import sys

    from absl import flags

    for flag in flags.FLAGS.get_flags_for_module(module):
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)


def run_tool(module: str) -> None:
    """Run ``symjax.tools.<module>`` as its ``__main__`` would (``absl.app.run(main)``)."""
    from absl import app

    tool = importlib.import_module(f"symjax.tools.{module}")
    show_flags_in_help(tool.__name__)
    app.run(tool.main)


def _entry(name: str) -> Callable[[], None]:
    def entry() -> None:
        run_tool(TOOLS[name])

    entry.__name__ = entry.__qualname__ = name
    entry.__doc__ = f"Console script ``symjax-{name.replace('_', '-')}``: tools/{TOOLS[name]}.py."
    return entry


convert = _entry("convert")
generate = _entry("generate")
evaluate = _entry("evaluate")
memory = _entry("memory")
select_prompts = _entry("select_prompts")
