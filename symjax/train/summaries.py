"""Run outputs: TensorBoard events and ``metrics.jsonl``, a progress line with rate, FLOP/s,
MFU and ETA, and profiler traces.

:class:`MetricsWriter` writes each group of scalars twice: as TensorBoard events under
``<model_dir>/<name>/`` (``train``, ``eval``, ``inference_eval``; t5x's layout) and as one JSON
line ``{"step": ..., "split": name, "metric": value, ...}`` appended to
``<model_dir>/metrics.jsonl`` (local or gs://). Only process 0 writes.

``metrics.jsonl`` is appended to, one line per write, never rewritten: the lines of every
start of a run stay (a restart after a crash may log again the steps after its last
checkpoint; the last line of a step is the one of the run that went on). Object stores
(gs://) cannot append: there the file is rewritten whole, which the run directory's single
trainer makes safe.

:class:`Utilization` turns steps/s into ``tflops_per_device`` and ``mfu`` (model FLOPs per
step from :mod:`symjax.train.flops`, over the devices, against their peak).
:class:`StepProfiler` traces a range of steps with ``jax.profiler`` into
``<model_dir>/train/plugins/profile/<session>/`` (TensorBoard's layout for its Profile tab).
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from typing import Any, Iterator, Mapping

__all__ = ["MetricsWriter", "Progress", "Utilization", "StepProfiler", "format_duration"]

log = logging.getLogger(__name__)


class MetricsWriter:
    def __init__(self, *, model_dir: str, enabled: bool = True):
        self.model_dir = model_dir
        self.enabled = enabled
        self._writers: dict[str, Any] = {}
        self._lines: list[str] | None = None
        self._append = "://" not in model_dir
        if enabled:
            from etils import epath

            self._jsonl = epath.Path(model_dir) / "metrics.jsonl"
            self._jsonl.parent.mkdir(parents=True, exist_ok=True)

    def _writer(self, name: str) -> Any:
        import tensorflow as tf

        if name not in self._writers:
            self._writers[name] = tf.summary.create_file_writer(os.path.join(self.model_dir, name))
        return self._writers[name]

    def write(self, *, step: int, split: str, scalars: Mapping[str, float]) -> None:
        if not self.enabled or not scalars:
            return
        import tensorflow as tf

        clean = {k: float(v) for k, v in scalars.items() if isinstance(v, (int, float))}
        with self._writer(split).as_default(step=int(step)):
            for k, v in clean.items():
                tf.summary.scalar(k, v)
        self._writer(split).flush()
        record = {"step": int(step), "split": split}
        record.update({k: (v if math.isfinite(v) else str(v)) for k, v in clean.items()})
        line = json.dumps(record, sort_keys=True) + "\n"
        if self._append:
            path = os.fspath(self._jsonl)
            with open(path, "a+b") as f:
                if f.tell():  # a line cut short by a killed run gets its own line end
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":
                        line = "\n" + line
                f.write(line.encode("utf-8"))
            return
        if self._lines is None:  # a resumed run keeps the lines it finds
            self._lines = self._jsonl.read_text().splitlines(keepends=True) if self._jsonl.exists() else []
        self._lines.append(line)
        # rewritten whole: object stores (gs://) cannot append
        self._jsonl.write_text("".join(self._lines))

    def close(self) -> None:
        for w in self._writers.values():
            w.close()
        self._writers.clear()


def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Steps/s, tokens/s and ETA since the last report (the first report after
    compilation starts the clock)."""

    def __init__(self, *, total_steps: int, start_step: int):
        self.total_steps = total_steps
        self._t0 = time.perf_counter()
        self._step0 = start_step
        self._tokens = 0.0
        self._begin_t = None
        self._begin_step = start_step

    def add_tokens(self, n: float) -> None:
        self._tokens += n

    def restart(self, step: int) -> None:
        """Start timing from ``step`` (call after the first, compiling, step)."""
        self._t0 = time.perf_counter()
        self._step0 = step
        self._tokens = 0.0
        self._begin_t = self._t0
        self._begin_step = step

    def report(self, step: int) -> dict[str, float]:
        now = time.perf_counter()
        elapsed = max(now - self._t0, 1e-9)
        steps_per_s = (step - self._step0) / elapsed
        out = {"steps_per_s": steps_per_s, "tokens_per_s": self._tokens / elapsed}
        if self._begin_t is not None and step > self._begin_step:
            overall = (step - self._begin_step) / max(now - self._begin_t, 1e-9)
            out["eta_s"] = (self.total_steps - step) / overall
        self._t0, self._step0, self._tokens = now, step, 0.0
        return out


class Utilization:
    """``tflops_per_device`` and (when the peak is known) ``mfu`` from steps/s."""

    def __init__(self, *, flops_per_step: float, num_devices: int, peak_tflops: float | None):
        self.flops_per_step = float(flops_per_step)
        self.num_devices = int(num_devices)
        self.peak_tflops = peak_tflops

    def report(self, steps_per_s: float) -> dict[str, float]:
        tflops = self.flops_per_step * steps_per_s / self.num_devices / 1e12
        out = {"tflops_per_device": tflops}
        if self.peak_tflops:
            out["mfu"] = tflops / self.peak_tflops
        return out


class StepProfiler:
    """A ``jax.profiler`` trace of steps ``start`` .. ``stop - 1`` (``steps=(start, stop)``).

    ``before(n)`` is called before step ``n`` runs, ``after(n, state)`` once it has been
    dispatched: the trace stops only when the last traced step's state is ready, so its
    device work is in the trace. Each step is a ``StepTraceAnnotation`` (TensorBoard's
    step-time view). A run resumed past ``stop`` traces nothing.
    """

    def __init__(self, *, steps: tuple[int, int] | None, log_dir: str, enabled: bool = True):
        self.steps = steps if enabled else None
        self.log_dir = log_dir
        self.active = False

    def before(self, step: int) -> None:
        if self.steps is None or self.active:
            return
        start, stop = self.steps
        if start <= step < stop:
            import jax

            log.info("profiling steps %d to %d into %s", step, stop - 1, self.log_dir)
            jax.profiler.start_trace(self.log_dir)
            self.active = True

    @contextlib.contextmanager
    def annotate(self, step: int) -> Iterator[None]:
        if not self.active:
            yield
            return
        import jax

        with jax.profiler.StepTraceAnnotation("train", step_num=step):
            yield

    def after(self, step: int, state: Any) -> None:
        if self.active and step >= self.steps[1] - 1:
            import jax

            jax.block_until_ready(state)
            self.close()

    def close(self) -> None:
        if self.active:
            import jax

            jax.profiler.stop_trace()
            self.active = False
            log.info("profile written under %s", os.path.join(self.log_dir, "plugins", "profile"))
