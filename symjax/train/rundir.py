"""The run directory: one trainer at a time, and config files written only for a run that starts.

* :class:`RunLock`: ``<model_dir>/run.lock`` (JSON: host, pid, start time) is created
  exclusively by the trainer of process 0 and removed when it ends. A second trainer on the
  same directory is refused, naming the holder's host and pid; a lock left by a process that
  is gone (same host, pid not running, or running but started at another time) is taken
  over with a warning. Object stores (``gs://``) have no exclusive create: there the run
  directory is not locked (a log line says so).
* :func:`read_run_config`: the ``config.json`` a previous start wrote, with a typed error
  naming the file when it is unreadable.
* :func:`write_run_files`: ``config.json``, ``config.gin``, ... written under a temporary
  name and renamed, after every check of a start has passed (a refused or failed start
  leaves the files of the run as they were).
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time
from typing import Any, Mapping

from symjax.errors import TrainingError

__all__ = ["LOCK_FILE", "RunLock", "read_run_config", "write_run_files"]

log = logging.getLogger(__name__)
LOCK_FILE = "run.lock"
CONFIG_FILE = "config.json"


def _is_remote(path: str) -> bool:
    return "://" in path


def _start_time(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int, started: int | None) -> bool:
    """Whether process ``pid`` runs and is the one that took the lock (not a later process
    that reused its pid)."""
    if pid == os.getpid():
        return False  # this very process does not hold the lock: a previous life (container restart)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    except OSError:
        return True
    if started is not None:
        now = _start_time(pid)
        return now is None or now == started
    return True


def _unwritable(model_dir: str, error: OSError) -> TrainingError:
    return TrainingError(
        f"cannot write to the run directory {model_dir} ({error.strerror or error}); choose a "
        "writable MODEL_DIR (--gin.MODEL_DIR=\"'/path'\") or fix its permissions")


class RunLock:
    """``<model_dir>/run.lock`` held while a trainer runs (see the module docstring)."""

    def __init__(self, model_dir: str):
        self.model_dir = model_dir
        self.path = os.path.join(model_dir, LOCK_FILE)
        self.held = False

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def _read(self) -> dict | None:
        try:
            with open(self.path, encoding="utf-8") as f:
                holder = json.load(f)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return None
        return holder if isinstance(holder, dict) and isinstance(holder.get("pid"), int) else None

    def acquire(self) -> None:
        if _is_remote(self.model_dir):
            log.info("run directory %s is on an object store, which has no exclusive create: "
                     "it is not locked; run one trainer per MODEL_DIR", self.model_dir)
            return
        try:
            os.makedirs(self.model_dir, exist_ok=True)
        except OSError as e:
            raise _unwritable(self.model_dir, e) from None
        me = {"host": socket.gethostname(), "pid": os.getpid(), "start_time": _start_time(os.getpid()),
              "started": time.strftime("%Y-%m-%d %H:%M:%S %z")}
        for _ in range(20):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._read()
                if holder == {}:
                    continue  # removed meanwhile: try again
                if holder is None:  # being written right now, or garbled
                    time.sleep(0.1)
                    holder = self._read()
                    if holder is None:
                        raise TrainingError(
                            f"run directory {self.model_dir} has an unreadable lock {self.path}; if no "
                            "trainer runs on this directory, delete the file and start again") from None
                    continue
                if holder.get("host") == me["host"] and not _alive(holder["pid"], holder.get("start_time")):
                    log.warning("taking over the lock %s of process %d on %s (started %s), which is "
                                "no longer running", self.path, holder["pid"], holder.get("host"),
                                holder.get("started", "?"))
                    try:
                        os.remove(self.path)
                    except FileNotFoundError:
                        pass
                    except OSError as e:
                        raise _unwritable(self.model_dir, e) from None
                    continue
                raise TrainingError(
                    f"run directory {self.model_dir} is in use by the trainer of process "
                    f"{holder['pid']} on host {holder.get('host', '?')} (started "
                    f"{holder.get('started', '?')}; lock {self.path}). Two trainers on one "
                    "MODEL_DIR overwrite each other's checkpoints: wait for it or stop it, or use "
                    "another MODEL_DIR; if that process is gone (a lock from another host cannot "
                    "be checked from here), delete the lock file") from None
            except OSError as e:
                raise _unwritable(self.model_dir, e) from None
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(json.dumps(me) + "\n")
            except OSError as e:
                self._remove_quietly()
                raise _unwritable(self.model_dir, e) from None
            self.held = True
            return
        raise TrainingError(f"could not take the lock {self.path}: it keeps changing; is another "
                            "trainer starting on this MODEL_DIR?")

    def _remove_quietly(self) -> None:
        try:
            os.remove(self.path)
        except OSError:
            pass

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        holder = self._read()
        if holder and holder.get("pid") == os.getpid():
            self._remove_quietly()


def read_run_config(model_dir: str) -> dict | None:
    """The config a previous start of the run stored (``None`` on the first start)."""
    from etils import epath

    path = epath.Path(model_dir) / CONFIG_FILE
    try:
        if not path.exists():
            return None
        text = path.read_text()
    except OSError as e:
        raise TrainingError(f"cannot read {path} ({e.strerror or e}); check the run directory's "
                            "permissions") from None
    try:
        stored = json.loads(text)
    except ValueError as e:
        stored = e
    if not isinstance(stored, dict):
        problem = stored if isinstance(stored, Exception) else f"a JSON {type(stored).__name__}, not an object"
        raise TrainingError(
            f"the run's stored config {path} is unreadable ({problem}); every checkpoint keeps a copy "
            f"(checkpoints/<step>/meta, key 'config'): restore the file from it, or move it aside "
            "(the next start then writes it afresh)") from None
    return stored


def write_run_files(model_dir: str, files: Mapping[str, str]) -> None:
    """Write each ``{name: text}`` into the run directory, each under a temporary name first
    (local paths) so a crash never leaves half a file."""
    from etils import epath

    root = epath.Path(model_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            if _is_remote(model_dir):
                (root / name).write_text(text)
                continue
            tmp = os.path.join(model_dir, f".{name}.tmp-{os.getpid()}")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, os.path.join(model_dir, name))
    except OSError as e:
        raise _unwritable(model_dir, e) from None
