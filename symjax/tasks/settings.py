"""Settings of the symjax tasks: vocabulary, benchmark data directory, split files, and the
prompt templates the eval mixtures use. Each has an environment variable, read when first
needed, and a Python function that overrides it.

Vocabulary (``SYMJAX_VOCABULARY`` / :func:`set_vocabulary`)
    Default: exactly t5x's T5 1.1 / Flan-T5 vocabulary,
    ``seqio.SentencePieceVocabulary("gs://t5-data/vocabs/cc_all.32000.100extra/sentencepiece.model")``
    (``extra_ids=0``), so the tasks pass t5x's vocabulary check. seqio reads the model file
    only when a task first tokenizes, never at import. The variable takes ``default``,
    ``byte`` (``seqio.ByteVocabulary()``, for tests and ByT5) or the path of a
    SentencePiece model (``extra_ids=0``); :func:`set_vocabulary` also takes any
    ``seqio.Vocabulary``. Changing it re-registers every ``symjax_*`` task and mixture.

Data directory (``SYMJAX_DATA_DIR`` / :func:`set_data_dir`)
    One folder per benchmark, holding the benchmark's official raw files:
    ``wtq/ sqa/ wikisql/ tabfact/ svamp/ bbh/ mmlu/`` (layouts in the readers' docstrings).
    ``SYMJAX_<BENCHMARK>_DIR`` (e.g. ``SYMJAX_WTQ_DIR``) or
    ``set_data_dir(path, benchmark="wtq")`` points one benchmark elsewhere. Eval tasks read
    the directory when their dataset is built, so it may be set after ``import symjax.tasks``.

TFDS data directory (``SYMJAX_TFDS_DATA_DIR`` / :func:`set_tfds_data_dir`)
    Where the ``symjax_wtq_tfds_template_<k>`` tasks look for the prepared TFDS builder
    ``wiki_table_questions``; unset, TFDS's own default (``$TFDS_DATA_DIR``, else
    ``~/tensorflow_datasets``). Read when a dataset is built; nothing is ever downloaded
    (prepare it with ``tfds build wiki_table_questions --data_dir=DIR``). Which TFDS split a
    seqio split reads: :data:`DEFAULT_TFDS_SPLITS`, changed with :func:`set_tfds_splits`.

Split files (:func:`set_split_files`)
    Which raw file a seqio split reads, per benchmark (:data:`DEFAULT_SPLIT_FILES`), e.g.
    ``set_split_files("wtq", test="pristine-unseen-tables")``.

Prompt selection (``SYMJAX_PROMPT_SELECTION`` / :func:`set_prompt_selection`)
    A JSON file ``{"wtq": 3, "tabfact": 0, ...}`` naming the template each eval mixture
    uses (written by ``tools/select_prompts.py``); else ``<data dir>/prompt_selection.json``
    when it exists; else template 0.

FLAN source of ``symjax_sql_flan`` (``SYMJAX_FLAN_MIXTURE``, ``SYMJAX_FLAN_JSONL``,
``SYMJAX_SQL_FLAN_RATE`` / :func:`set_flan_source`)
    Either the name of a registered seqio mixture (e.g. a FLAN v2 submix; import its
    module first) or comma-separated glob patterns of JSONL files with ``inputs`` and
    ``targets``; the rate is ``SQL:FLAN``, by default ``1:3`` (the paper's 200K SQL with
    600K FLAN). The mixture's vocabulary must equal the symjax vocabulary (seqio checks).

Eval prompt budget (:func:`set_eval_prompt_config`)
    The :class:`symjax.tasks.records.TablePromptConfig` the table eval tasks use (default:
    6500 characters, about the paper's 2048 tokens).
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Mapping

from symjax.errors import ConfigError, DataError, VocabularyError

__all__ = [
    "BENCHMARKS",
    "configure",
    "on_change",
    "DEFAULT_SPM_PATH",
    "DEFAULT_SPLIT_FILES",
    "data_dir",
    "benchmark_dir",
    "set_data_dir",
    "split_file",
    "set_split_files",
    "WTQ_TFDS_BUILDER",
    "DEFAULT_TFDS_SPLITS",
    "tfds_data_dir",
    "set_tfds_data_dir",
    "tfds_split",
    "set_tfds_splits",
    "get_vocabulary",
    "set_vocabulary",
    "vocabulary_from_spec",
    "prompt_selection",
    "set_prompt_selection",
    "flan_source",
    "set_flan_source",
    "eval_prompt_config",
    "set_eval_prompt_config",
]

BENCHMARKS = ("wtq", "sqa", "wikisql", "tabfact", "svamp", "bbh", "mmlu")
DEFAULT_SPM_PATH = "gs://t5-data/vocabs/cc_all.32000.100extra/sentencepiece.model"

# seqio split -> raw file stem, per benchmark (the paper's validation/test choices).
DEFAULT_SPLIT_FILES: dict[str, dict[str, str]] = {
    "wtq": {"train": "training", "validation": "random-split-1-dev", "test": "pristine-unseen-tables"},
    "sqa": {"train": "random-split-1-train", "validation": "random-split-1-dev", "test": "test"},
    "wikisql": {"train": "train", "validation": "dev", "test": "test"},
    "tabfact": {"train": "train", "validation": "val", "test": "test"},
    "svamp": {"test": "dev"},
    "bbh": {"test": "test"},
    "mmlu": {"validation": "val", "test": "test"},
}

# The TFDS builder of WTQ (tensorflow_datasets.structured.wiki_table_questions, v1.0.0) and
# seqio split -> TFDS split: the same questions as the raw-file WTQ tasks read
# (split-1-dev = random-split-1-dev.tsv, test = pristine-unseen-tables.tsv).
WTQ_TFDS_BUILDER = "wiki_table_questions"
DEFAULT_TFDS_SPLITS: dict[str, str] = {"train": "train", "validation": "split-1-dev", "test": "test"}

_state: dict[str, Any] = {
    "tfds_data_dir": None,
    "tfds_splits": {},
    "data_dir": None,
    "benchmark_dirs": {},
    "split_files": {},
    "vocabulary": None,
    "vocabulary_spec": None,
    "prompt_selection": None,
    "flan": None,
    "eval_prompt_config": None,
}


# ---------------------------------------------------------------------------- data
def _check_benchmark(benchmark: str) -> None:
    if benchmark not in BENCHMARKS:
        raise ConfigError(f"unknown benchmark {benchmark!r}; use one of {BENCHMARKS}")


def data_dir() -> Path | None:
    """The root data directory: :func:`set_data_dir`, else ``$SYMJAX_DATA_DIR``, else None."""
    root = _state["data_dir"] or os.environ.get("SYMJAX_DATA_DIR")
    return Path(root).expanduser() if root else None


def benchmark_dir(benchmark: str) -> Path:
    """The folder of one benchmark's raw files; raises :class:`MissingDataError` (naming
    the settings) when none is configured."""
    from symjax.errors import MissingDataError

    _check_benchmark(benchmark)
    explicit = _state["benchmark_dirs"].get(benchmark) or os.environ.get(f"SYMJAX_{benchmark.upper()}_DIR")
    if explicit:
        return Path(explicit).expanduser()
    root = data_dir()
    if root is None:
        raise MissingDataError(
            f"no data directory for benchmark {benchmark!r}: set SYMJAX_DATA_DIR (a folder with "
            f"{'/ '.join(BENCHMARKS)}/ subfolders), SYMJAX_{benchmark.upper()}_DIR, or call "
            "symjax.tasks.set_data_dir(path)"
        )
    return root / benchmark


def set_data_dir(path: str | os.PathLike | None, *, benchmark: str | None = None) -> None:
    """Set the root data directory, or (with ``benchmark``) one benchmark's folder.
    ``None`` clears the setting."""
    if benchmark is None:
        _state["data_dir"] = None if path is None else str(path)
    else:
        _check_benchmark(benchmark)
        if path is None:
            _state["benchmark_dirs"].pop(benchmark, None)
        else:
            _state["benchmark_dirs"][benchmark] = str(path)
    if _state["prompt_selection"] is None:
        _reregister()  # the default prompt-selection file lives in the data directory


def split_file(benchmark: str, split: str) -> str:
    """The raw file stem that seqio split ``split`` of ``benchmark`` reads."""
    _check_benchmark(benchmark)
    files = {**DEFAULT_SPLIT_FILES[benchmark], **_state["split_files"].get(benchmark, {})}
    if split not in files:
        raise ConfigError(
            f"benchmark {benchmark!r} has no split {split!r}; its splits are {sorted(files)} "
            "(add one with symjax.tasks.set_split_files)"
        )
    return files[split]


def set_split_files(benchmark: str, **files: str) -> None:
    """Map seqio splits to raw file stems, e.g. ``set_split_files("wtq", test="pristine-unseen-tables")``."""
    _check_benchmark(benchmark)
    for split, stem in files.items():
        if not isinstance(stem, str) or not stem:
            raise ConfigError(f"split file for {benchmark}:{split} must be a non-empty string, got {stem!r}")
    _state["split_files"].setdefault(benchmark, {}).update(files)


# ---------------------------------------------------------------------------- TFDS
def tfds_data_dir() -> str | None:
    """The TFDS data directory of the TFDS-backed tasks: :func:`set_tfds_data_dir`, else
    ``$SYMJAX_TFDS_DATA_DIR``, else ``None`` (TFDS's default: ``$TFDS_DATA_DIR`` or
    ``~/tensorflow_datasets``). A string, so ``gs://`` paths work."""
    value = _state["tfds_data_dir"] or os.environ.get("SYMJAX_TFDS_DATA_DIR")
    if not value:
        return None
    return value if "://" in value else str(Path(value).expanduser())


def set_tfds_data_dir(path: str | os.PathLike | None) -> None:
    """Set the TFDS data directory (``None``: back to the environment / TFDS's default)."""
    _state["tfds_data_dir"] = None if path is None else str(path)


def tfds_split(split: str) -> str:
    """The TFDS split (``train``, ``test``, ``split-<N>-train``, ``split-<N>-dev``; any TFDS
    split expression) that seqio split ``split`` of the TFDS-backed WTQ tasks reads."""
    splits = {**DEFAULT_TFDS_SPLITS, **_state["tfds_splits"]}
    if split not in splits:
        raise ConfigError(
            f"the TFDS WTQ tasks have no split {split!r}; mapped splits are {sorted(splits)} "
            "(add one with symjax.tasks.settings.set_tfds_splits)"
        )
    return splits[split]


def set_tfds_splits(**splits: str) -> None:
    """Map seqio splits to TFDS splits, e.g. ``set_tfds_splits(validation="split-2-dev")``;
    ``None`` for a split goes back to :data:`DEFAULT_TFDS_SPLITS`."""
    for split, name in splits.items():
        if name is not None and (not isinstance(name, str) or not name):
            raise ConfigError(f"TFDS split for {split!r} must be a non-empty string, got {name!r}")
    for split, name in splits.items():
        if name is None:
            _state["tfds_splits"].pop(split, None)
        else:
            _state["tfds_splits"][split] = name


# ---------------------------------------------------------------------------- vocabulary
def vocabulary_from_spec(spec: str) -> Any:
    """A seqio vocabulary from a setting: ``default``, ``byte`` or a SentencePiece path."""
    import seqio

    spec = spec.strip()
    if spec in ("", "default", "t5", "flan"):
        return seqio.SentencePieceVocabulary(DEFAULT_SPM_PATH)
    if spec == "byte":
        return seqio.ByteVocabulary()
    if spec.endswith(".model") or "/" in spec:
        return seqio.SentencePieceVocabulary(spec)
    raise VocabularyError(
        f"SYMJAX_VOCABULARY={spec!r} is not a vocabulary: use 'default' (the T5 1.1 / Flan-T5 "
        "SentencePiece model), 'byte', or the path of a SentencePiece .model file"
    )


def get_vocabulary() -> Any:
    """The vocabulary every symjax task uses (see the module docstring). Built on first
    use; building it does not read the model file."""
    if _state["vocabulary"] is None:
        spec = os.environ.get("SYMJAX_VOCABULARY", "default")
        _state["vocabulary"] = vocabulary_from_spec(spec)
        _state["vocabulary_spec"] = spec
    return _state["vocabulary"]


def set_vocabulary(vocabulary: Any) -> None:
    """Switch every symjax task and mixture to ``vocabulary`` (a ``seqio.Vocabulary`` or a
    spec string as for ``SYMJAX_VOCABULARY``; ``None`` goes back to the environment/default)."""
    if vocabulary is None:
        _state["vocabulary"] = None
    elif isinstance(vocabulary, str):
        _state["vocabulary"] = vocabulary_from_spec(vocabulary)
    else:
        import seqio

        if not isinstance(vocabulary, seqio.Vocabulary):
            raise VocabularyError(
                f"set_vocabulary takes a seqio.Vocabulary or a spec string, got {type(vocabulary).__name__}"
            )
        _state["vocabulary"] = vocabulary
    _reregister()


# ---------------------------------------------------------------------------- prompt selection
def selection_path() -> Path | None:
    """The prompt-selection file in use: ``SYMJAX_PROMPT_SELECTION``, else
    ``<data_dir>/prompt_selection.json`` when it exists, else ``None``."""
    env = os.environ.get("SYMJAX_PROMPT_SELECTION")
    if env:
        return Path(env).expanduser()
    root = data_dir()
    if root is not None and (root / "prompt_selection.json").is_file():
        return root / "prompt_selection.json"
    return None


def _read_selection(path: Path) -> dict[str, int]:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        from symjax.errors import MissingDataError

        raise MissingDataError(f"prompt selection file {path} does not exist (tools/select_prompts.py writes it)") from e
    except json.JSONDecodeError as e:
        raise DataError(f"{path}, line {e.lineno}: invalid JSON: {e.msg}") from e
    return _check_selection(obj, str(path))


def _check_selection(obj: Any, where: str) -> dict[str, int]:
    if not isinstance(obj, Mapping):
        raise DataError(f"{where}: a prompt selection is a JSON object {{benchmark: template index}}, got {obj!r}")
    out = {}
    for bench, index in obj.items():
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise DataError(f"{where}: template index of {bench!r} must be an int >= 0, got {index!r}")
        out[str(bench)] = index
    return out


def prompt_selection() -> dict[str, int]:
    """``{benchmark: template index}`` the eval mixtures use (missing benchmarks: 0)."""
    selected = _state["prompt_selection"]
    if selected is not None:
        return dict(selected)
    path = selection_path()
    return {} if path is None else _read_selection(path)


def set_prompt_selection(selection: str | os.PathLike | Mapping[str, int] | None) -> None:
    """Use a selection file (path) or mapping for the eval mixtures; ``None`` goes back to
    the environment/default. Re-registers the mixtures."""
    if selection is None:
        _state["prompt_selection"] = None
    elif isinstance(selection, Mapping):
        _state["prompt_selection"] = _check_selection(selection, "prompt selection")
    else:
        _state["prompt_selection"] = _read_selection(Path(selection))
    _reregister()


# ---------------------------------------------------------------------------- FLAN
def _parse_rate(text: str) -> tuple[float, float]:
    try:
        sql, flan = (float(x) for x in text.split(":"))
    except ValueError:
        raise ConfigError(f"SQL:FLAN rate {text!r} must look like '1:3'") from None
    if sql <= 0 or flan <= 0:
        raise ConfigError(f"SQL:FLAN rate {text!r} must be two positive numbers")
    return sql, flan


def flan_source() -> dict[str, Any]:
    """``{"mixture": name or None, "jsonl": [patterns], "rate": (sql, flan)}``."""
    if _state["flan"] is not None:
        return dict(_state["flan"])
    jsonl = os.environ.get("SYMJAX_FLAN_JSONL", "")
    return {
        "mixture": os.environ.get("SYMJAX_FLAN_MIXTURE") or None,
        "jsonl": [p.strip() for p in jsonl.split(",") if p.strip()],
        "rate": _parse_rate(os.environ.get("SYMJAX_SQL_FLAN_RATE", "1:3")),
    }


def set_flan_source(
    *, mixture: str | None = None, jsonl: str | list[str] | None = None, rate: str | tuple[float, float] = (1, 3)
) -> None:
    """Set the FLAN part of ``symjax_sql_flan``: a registered mixture name, or JSONL glob
    patterns; and the ``SQL:FLAN`` rate (``"1:3"`` or ``(1, 3)``). Re-registers the mixture."""
    if mixture is not None and jsonl is not None:
        raise ConfigError("give either mixture= (a registered seqio mixture) or jsonl= (files), not both")
    if isinstance(jsonl, str):
        jsonl = [p.strip() for p in jsonl.split(",") if p.strip()]
    if isinstance(rate, str):
        rate = _parse_rate(rate)
    else:
        rate = _parse_rate(":".join(str(x) for x in rate))
    _state["flan"] = {"mixture": mixture, "jsonl": list(jsonl or []), "rate": rate}
    _reregister()


# ---------------------------------------------------------------------------- eval prompts
def eval_prompt_config() -> Any:
    """The :class:`~symjax.tasks.records.TablePromptConfig` of the table eval tasks."""
    from symjax.tasks.records import TablePromptConfig

    return _state["eval_prompt_config"] or TablePromptConfig()


def set_eval_prompt_config(config: Any) -> None:
    """Use ``config`` (a :class:`~symjax.tasks.records.TablePromptConfig`, or ``None`` for
    the default) when the table eval tasks build prompts."""
    from symjax.tasks.records import TablePromptConfig

    if config is not None and not isinstance(config, TablePromptConfig):
        raise ConfigError(f"set_eval_prompt_config takes a TablePromptConfig, got {type(config).__name__}")
    _state["eval_prompt_config"] = config


# ---------------------------------------------------------------------------- changes
# Modules whose state derives from these settings (the registry's seqio tasks) subscribe
# with on_change; a setting that changes what the tasks build calls them. configure()
# batches several settings into one call.
_listeners: list[Callable[[], Any]] = []
_batch = {"depth": 0, "changed": False}
_UNSET: Any = object()


def on_change(callback: Callable[[], Any]) -> None:
    """Call ``callback()`` after every change of a setting the tasks are built from (once
    per :func:`configure`); subscribing the same callback twice has no effect."""
    if callback not in _listeners:
        _listeners.append(callback)


def _reregister() -> None:
    if _batch["depth"]:
        _batch["changed"] = True
        return
    for callback in list(_listeners):
        callback()


def configure(*, vocabulary: Any = _UNSET, data_dir: Any = _UNSET, flan: Mapping[str, Any] | None = _UNSET,
              prompt_selection: Any = _UNSET, eval_prompt_config: Any = _UNSET) -> None:
    """Set several settings at once; the tasks and mixtures are re-registered once, after
    all of them. Each argument is what its ``set_*`` function takes (``None`` goes back to
    the environment/default; ``flan`` is a mapping of :func:`set_flan_source`'s keywords);
    an argument left out is left as it is::

        symjax.tasks.configure(vocabulary="byte", data_dir="/data/benchmarks",
                               flan={"jsonl": "/data/flan/*.jsonl", "rate": "1:3"})
    """
    if flan is not _UNSET and flan is not None and not isinstance(flan, Mapping):
        raise ConfigError(f"configure(flan=...) takes a mapping of set_flan_source's keywords "
                          f"(mixture=, jsonl=, rate=) or None, got {type(flan).__name__}")
    _batch["depth"] += 1
    try:
        if vocabulary is not _UNSET:
            set_vocabulary(vocabulary)
        if data_dir is not _UNSET:
            set_data_dir(data_dir)
        if flan is not _UNSET:
            if flan is None:
                _state["flan"] = None
                _reregister()
            else:
                set_flan_source(**flan)
        if prompt_selection is not _UNSET:
            set_prompt_selection(prompt_selection)
        if eval_prompt_config is not _UNSET:
            set_eval_prompt_config(eval_prompt_config)
    finally:
        _batch["depth"] -= 1
        changed, _batch["changed"] = _batch["changed"], False
    if changed:
        _reregister()
