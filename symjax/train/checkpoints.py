"""Train checkpoints with orbax: asynchronous, keep the last N, atomic.

A checkpoint ``<model_dir>/checkpoints/<step>/`` holds two items:

* ``state``: the train state ``{"params", "opt_state", "step"}`` (orbax ``StandardSave``,
  tensorstore/OCDBT, each host writing its shards);
* ``meta``: JSON ``{"step", "data_batches", "format", "config"}``; ``data_batches`` counts
  the global batches consumed, ``config`` is the run's resolved config;
* ``data``: each host's input-pipeline position (``process_<i>-of-<n>.tfdata``, the bytes
  of :meth:`symjax.train.data.TrainBatches.state`), restored in constant time; absent when
  the pipeline could not be saved (then a restart replays ``data_batches`` batches).

orbax writes into a temporary directory and renames it when every file is written, so a
checkpoint directory either is complete or does not appear under its final name (a run
killed mid-save leaves the previous checkpoint as the latest). Saves are asynchronous:
:meth:`Checkpointer.save` returns once the arrays are copied off the device, and
:meth:`Checkpointer.wait` blocks until the files are written.

A save that fails (a full disk, a directory that became read-only) is a
:class:`CheckpointError` naming the checkpoint and the last complete one. After a failed
save or restore, tensorstore's callbacks still in flight call into the event loop orbax has
closed, each printing a "RuntimeError: Event loop is closed" traceback: the first
:class:`Checkpointer` installs an unraisable-exception hook that drops exactly those (other
unraisable exceptions go to the previous hook), so the one message that matters stays in
sight.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import sys
from typing import Any, Iterator, Mapping

from symjax.errors import CheckpointError

__all__ = ["CHECKPOINT_FORMAT", "Checkpointer", "checkpoint_steps", "resolve_checkpoint",
           "read_params", "TrainedModel", "read_trained_model"]


log = logging.getLogger(__name__)
CHECKPOINT_FORMAT = "symjax.train/1"
_SUBDIR = "checkpoints"


def _ocp():
    import orbax.checkpoint as ocp

    return ocp


def _process_file() -> str:
    import jax

    return f"process_{jax.process_index()}-of-{jax.process_count()}.tfdata"


_DATA_CLASSES: dict[str, Any] = {}


def _data_classes() -> tuple[Any, Any, Any]:
    """orbax handler and args of the ``data`` item (defined on first use: orbax is imported
    lazily)."""
    if _DATA_CLASSES:
        return _DATA_CLASSES["handler"], _DATA_CLASSES["save"], _DATA_CLASSES["restore"]
    import dataclasses

    ocp = _ocp()

    class DataStateHandler(ocp.CheckpointHandler):
        """Every host writes its own input-pipeline position into the item's directory."""

        def save(self, directory, args):
            if args.state is not None:
                (directory / _process_file()).write_bytes(args.state)

        def restore(self, directory, args=None):
            path = directory / _process_file()
            return path.read_bytes() if path.exists() else None

    @ocp.args.register_with_handler(DataStateHandler, for_save=True)
    @dataclasses.dataclass
    class DataStateSave(ocp.args.CheckpointArgs):
        state: bytes | None

    @ocp.args.register_with_handler(DataStateHandler, for_restore=True)
    @dataclasses.dataclass
    class DataStateRestore(ocp.args.CheckpointArgs):
        pass

    _DATA_CLASSES.update(handler=DataStateHandler, save=DataStateSave, restore=DataStateRestore)
    return DataStateHandler, DataStateSave, DataStateRestore


def checkpoint_steps(model_dir: str) -> list[int]:
    """Steps of the complete checkpoints under ``model_dir`` (ascending; local or gs://)."""
    from etils import epath

    root = epath.Path(model_dir) / _SUBDIR
    if not root.is_dir():
        return []
    return sorted(int(d.name) for d in root.iterdir() if d.name.isdigit() and d.is_dir())


def resolve_checkpoint(path: str) -> tuple[str, int | None]:
    """``(checkpoint directory, step)`` of a train checkpoint (``.../checkpoints/<step>``)
    or of a run directory (its latest checkpoint; step ``None`` when it has none yet)."""
    name = path.rstrip("/").split("/")[-1]
    if name.isdigit():
        return path, int(name)
    steps = checkpoint_steps(path)
    if not steps:
        return path, None
    return os.path.join(path, _SUBDIR, str(steps[-1])), steps[-1]


def read_params(path: str, abstract_params: Any) -> Any:
    """The parameters (host numpy arrays shaped as ``abstract_params``) of a train checkpoint
    or of a run directory's latest one, without reading the optimizer state."""
    import jax
    import numpy as np

    ocp = _ocp()
    directory, step = resolve_checkpoint(path)
    if step is None:
        raise CheckpointError(f"run directory {path} has no checkpoint yet")
    target = {"params": jax.tree.map(lambda a: np.zeros(a.shape, a.dtype), abstract_params)}
    restore_args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), target)
    try:
        restored = ocp.PyTreeCheckpointer().restore(
            os.path.join(directory, "state"),
            args=ocp.args.PyTreeRestore(item=target, partial_restore=True, restore_args=restore_args))
    except Exception as e:  # orbax raises many types for unreadable files
        raise CheckpointError(f"cannot read parameters from train checkpoint {directory}: {e}") from e
    return restored["params"]


@dataclasses.dataclass(frozen=True)
class TrainedModel:
    """A model read back for use outside training (export, prediction).

    ``vocabulary`` is the run's vocabulary spec (``"default"``, ``"byte"`` or a
    SentencePiece path; ``None`` when the weights do not record one), ``step`` the train
    checkpoint's step (``None`` for plain weights), ``task_feature_lengths`` the run's
    lengths (``None`` when unknown), ``directory`` what was read.
    """

    config: Any
    params: Any
    directory: str
    vocabulary: str | None = None
    step: int | None = None
    task_feature_lengths: Mapping[str, int] | None = None


def _train_meta(directory: str) -> dict:
    path = os.path.join(directory, "meta", "metadata")
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise CheckpointError(f"{directory} has no meta/metadata: not a complete symjax train "
                              "checkpoint (give the run directory, one of its checkpoints/<step>, "
                              "or a directory of symjax weights)") from None
    except (OSError, ValueError) as e:
        raise CheckpointError(f"cannot read {path} ({e}); the checkpoint is damaged: give another "
                              "step under checkpoints/") from None
    if meta.get("format") != CHECKPOINT_FORMAT or not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{path} has format {meta.get('format')!r}, not {CHECKPOINT_FORMAT!r}; "
                              "not written by symjax's trainer")
    return meta


def read_trained_model(path: str) -> TrainedModel:
    """The model of a run directory (its latest checkpoint), of one train checkpoint
    (``<run>/checkpoints/<step>``), of a directory of symjax weights (``config.json`` +
    ``params/``) or of a Hugging Face directory (``config.json`` + safetensors), with its
    config and, for training runs, the run's vocabulary and lengths. Host numpy arrays."""
    import jax
    import numpy as np
    from flax import linen as nn

    from symjax.model import T5Config, abstract_params, import_hf_checkpoint, load_checkpoint

    if not path or not os.path.isdir(path):
        raise CheckpointError(f"checkpoint {path!r} is not a directory; give a symjax run directory, "
                              "one of its checkpoints/<step>, symjax weights or a Hugging Face model "
                              "directory")
    directory, step = resolve_checkpoint(path)
    entries = set(os.listdir(directory))
    if step is None and "checkpoints" in entries:
        raise CheckpointError(f"run directory {path} has no checkpoint yet")
    if step is not None and "state" in set(os.listdir(directory)):
        meta = _train_meta(directory)
        run = meta["config"]
        try:
            config = T5Config.from_dict(run["model"])
        except (KeyError, TypeError) as e:
            raise CheckpointError(f"{directory}/meta/metadata has no usable model config ({e})") from None
        params = read_params(directory, nn.meta.unbox(abstract_params(config=config)))
        lengths = run.get("task_feature_lengths")
        return TrainedModel(config=config, params=jax.tree.map(np.asarray, params),
                            directory=directory, vocabulary=run.get("vocabulary"), step=step,
                            task_feature_lengths=dict(lengths) if lengths else None)
    if "params" in entries and "config.json" in entries:
        config, params = load_checkpoint(directory=path)
        return TrainedModel(config=config, params=jax.tree.map(np.asarray, params), directory=path)
    if any(e.endswith(".safetensors") for e in entries):
        config, params = import_hf_checkpoint(directory=path)
        return TrainedModel(config=config, params=params, directory=path)
    raise CheckpointError(
        f"{path} is neither a symjax run directory (checkpoints/), a train checkpoint (state/, "
        "meta/), symjax weights (config.json + params/) nor a Hugging Face model (safetensors); a "
        "t5x checkpoint must first be converted: tools/convert_checkpoint.py --from=t5x --model=...")


def _is_event_loop_noise(unraisable: Any) -> bool:
    """tensorstore's completion callbacks calling into the event loop orbax already closed
    (after a failed save or restore): a RuntimeError per array still in flight."""
    error = unraisable.exc_value
    return isinstance(error, RuntimeError) and str(error) == "Event loop is closed"


_previous_unraisablehook = None


def _quiet_unraisablehook(unraisable: Any) -> None:
    if not _is_event_loop_noise(unraisable):
        (_previous_unraisablehook or sys.__unraisablehook__)(unraisable)


def install_noise_filter() -> None:
    """Keep orbax's shutdown noise after a failed save or restore (about one "Event loop is
    closed" traceback per array) out of the way of the one error that matters. Other
    unraisable exceptions still go to the previous hook."""
    global _previous_unraisablehook
    if sys.unraisablehook is not _quiet_unraisablehook:
        _previous_unraisablehook = sys.unraisablehook
        sys.unraisablehook = _quiet_unraisablehook


class _DropOrbaxTracebacks(logging.Filter):
    """Drops orbax's logged tracebacks of an error that :class:`Checkpointer` raises again
    as a :class:`CheckpointError` (which carries its type and message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and "orbax" in (record.pathname or ""))


@contextlib.contextmanager
def _orbax_tracebacks_dropped() -> Iterator[None]:
    drop = _DropOrbaxTracebacks()
    loggers = [logging.getLogger("absl"), logging.getLogger("orbax"), logging.getLogger()]
    for logger in loggers:
        logger.addFilter(drop)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(drop)


class Checkpointer:
    """Saves and restores train checkpoints of one run directory (see the module docstring).

    A save that fails in the background (a full disk, a directory that became read-only)
    surfaces as a :class:`CheckpointError` naming the checkpoint at the next call of
    :meth:`check`, :meth:`save`, :meth:`wait` or :meth:`close`; :meth:`abandon` closes
    quietly on an error path.
    """

    def __init__(self, *, model_dir: str, keep: int | None = 3, async_save: bool = True):
        ocp = _ocp()
        if keep is not None and keep < 1:
            raise CheckpointError(f"keep_checkpoints must be >= 1 or None (keep all), got {keep}")
        root = model_dir if "://" in model_dir else os.path.abspath(model_dir)
        self.directory = os.path.join(root, _SUBDIR)
        options = ocp.CheckpointManagerOptions(
            max_to_keep=keep, enable_async_checkpointing=async_save, create=True,
            cleanup_tmp_directories=True,
        )
        install_noise_filter()
        self._pending: int | None = None  # the step of the last save started
        handler, _, _ = _data_classes()
        self._manager = ocp.CheckpointManager(
            self.directory, options=options,
            item_handlers={"state": ocp.StandardCheckpointHandler(), "meta": ocp.JsonCheckpointHandler(),
                           "data": handler()})

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        return sorted(self._manager.all_steps())

    def save(self, *, step: int, state: Any, data_batches: int, config: Mapping[str, Any],
             data_state: bytes | None = None) -> bool:
        """Start saving ``state`` (and this host's input-pipeline position ``data_state``)
        as checkpoint ``step``; returns False if it already exists."""
        ocp = _ocp()
        self.wait()  # the previous save (orbax waits for it anyway): a failure of it is named here
        if step in self._manager.all_steps():
            return False
        _, data_save, _ = _data_classes()
        meta = {"step": int(step), "data_batches": int(data_batches),
                "format": CHECKPOINT_FORMAT, "config": dict(config)}
        with self._saving(step):
            self._manager.save(step, args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta),
                data=data_save(data_state)), force=True)
        self._pending = step
        log.info("saving checkpoint %d to %s", step, self.directory)
        return True

    @contextlib.contextmanager
    def _saving(self, failed: int | None) -> Iterator[None]:
        """Turns any error of the save of checkpoint ``failed`` into a CheckpointError
        naming it."""
        try:
            with _orbax_tracebacks_dropped():
                yield
        except CheckpointError:
            raise
        except Exception as e:  # orbax and tensorstore raise many types
            self._pending = None
            kept = [s for s in checkpoint_steps(os.path.dirname(self.directory)) if s != failed]
            last = (f"the last complete checkpoint is {kept[-1]}, which a restart resumes from"
                    if kept else "no checkpoint is complete yet")
            which = f"checkpoint {failed}" if failed is not None else "a checkpoint"
            raise CheckpointError(
                f"saving {which} to {self.directory} failed ({type(e).__name__}: "
                f"{str(e)[:300]}); {last}. Free disk space or make the directory writable, then "
                "rerun the same command") from e

    def check(self) -> None:
        """Raise the error of a background save that failed (cheap; the loop calls it)."""
        with self._saving(self._pending):
            self._manager.check_for_errors()

    def read_meta(self, step: int) -> dict:
        ocp = _ocp()
        try:
            restored = self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
        except Exception as e:  # orbax raises many types for unreadable files
            raise self._corrupt(step, e) from e
        meta = dict(restored["meta"])
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(
                f"checkpoint {self._path(step)} has format {meta.get('format')!r}, expected "
                f"{CHECKPOINT_FORMAT!r}; it was not written by symjax's trainer (load model "
                "weights with TrainConfig.initial_checkpoint instead)"
            )
        return meta

    def restore(self, *, step: int, abstract_state: Any) -> tuple[Any, dict]:
        """The state of checkpoint ``step`` with the shardings of ``abstract_state`` (a tree
        of ``jax.ShapeDtypeStruct`` with ``sharding``), and its meta."""
        ocp = _ocp()
        if step not in self._manager.all_steps():
            raise CheckpointError(
                f"no checkpoint {step} in {self.directory}; available: {self.all_steps() or 'none'}"
            )
        meta = self.read_meta(step)
        try:
            restored = self._manager.restore(step, args=ocp.args.Composite(
                state=ocp.args.StandardRestore(abstract_state)))
        except Exception as e:
            raise self._corrupt(step, e) from e
        return restored["state"], meta

    def read_data_state(self, step: int) -> bytes | None:
        """This host's input-pipeline position saved with checkpoint ``step`` (``None`` when
        the checkpoint has none)."""
        from etils import epath

        path = epath.Path(self._path(step)) / "data" / _process_file()
        try:
            return path.read_bytes() if path.exists() else None
        except OSError as e:
            raise self._corrupt(step, e) from e

    def _path(self, step: int) -> str:
        return os.path.join(self.directory, str(step))

    def _corrupt(self, step: int, error: Exception) -> CheckpointError:
        others = [s for s in self.all_steps() if s != step]
        hint = (f"move it aside to resume from checkpoint {others[-1]}" if others
                else "move it aside to start the run afresh")
        return CheckpointError(
            f"checkpoint {self._path(step)} cannot be read ({type(error).__name__}: "
            f"{str(error)[:300]}); nothing was deleted: {hint}"
        )

    def wait(self) -> None:
        with self._saving(self._pending):
            self._manager.wait_until_finished()
        self._pending = None

    def close(self) -> None:
        """Wait for the last save and close; a failed save is a CheckpointError."""
        try:
            self.wait()
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Close without raising (an error path: the error in flight is the one to report)."""
        with _orbax_tracebacks_dropped(), contextlib.suppress(Exception):
            self._manager.close()
