"""The accelerators symjax is sized for: memory and peak bf16 rate per jax device, in one table.

Every figure is per *jax device*, because that is what a mesh axis counts and what a
compiled executable's ``memory_analysis()`` reports: a TPU v3 chip has two TensorCores that
jax sees as two devices of 16 GiB each; v4 and v5p chips are "megacore" (one device per
chip); v5e and v6e chips have one TensorCore each. Sources: the Cloud TPU system-architecture
pages (v3, v4, v5e, v5p, v6e: HBM per chip and peak bf16 TFLOP/s per chip) and NVIDIA's
datasheets (dense bf16 Tensor Core rate, without sparsity; HBM as ``nvidia-smi`` reports it).

:func:`resolve_device` turns ``--device`` values into a :class:`DeviceSpec` and a device
count: a family name (``v4``, ``h100``) means one host's worth (``default_devices``), a TPU
accelerator type (``v4-32``, ``v3-8``, ``v5litepod-16``) means that slice.
:func:`detect_device` names the family of a running ``jax.Device`` (``device_kind``), for
the trainer's MFU.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from symjax.errors import ConfigError

__all__ = ["DeviceSpec", "DEVICES", "GIB", "resolve_device", "detect_device",
           "GPU_DEFAULT_MEM_FRACTION", "format_device_table"]

GIB = 2 ** 30
MIB = 2 ** 20
# jax preallocates this fraction of a GPU's memory unless XLA_PYTHON_CLIENT_MEM_FRACTION
# says otherwise; more than that is not usable by the step.
GPU_DEFAULT_MEM_FRACTION = 0.75


@dataclasses.dataclass(frozen=True)
class DeviceSpec:
    """One accelerator, per jax device.

    ``hbm_bytes``: memory of one jax device. ``peak_bf16_tflops``: its dense bf16 peak.
    ``devices_per_host``: jax devices one host (VM) sees. ``default_devices``: the count a
    bare family name stands for (one host: v3-8, v4-8, v5litepod-8, v5p-8, v6e-8, a machine
    of 8 GPUs). ``cores_per_device``: TensorCores per jax device, to read TPU accelerator
    types (``v4-32`` counts 32 TensorCores, 16 megacore devices).
    """

    name: str
    kind: str  # "tpu" or "gpu"
    hbm_bytes: int
    peak_bf16_tflops: float
    devices_per_host: int
    default_devices: int
    cores_per_device: int = 1
    note: str = ""


DEVICES: dict[str, DeviceSpec] = {d.name: d for d in (
    DeviceSpec("v3", "tpu", 16 * GIB, 61.5, 8, 8, 1,
               "per TensorCore: a chip is 2 x 16 GiB and 123 TFLOP/s"),
    DeviceSpec("v4", "tpu", 32 * GIB, 275.0, 4, 4, 2, "megacore chip"),
    DeviceSpec("v5e", "tpu", 16 * GIB, 197.0, 4, 8, 1, "v5litepod; 8 chips on a one-host slice"),
    DeviceSpec("v5p", "tpu", 95 * GIB, 459.0, 4, 4, 2, "megacore chip"),
    DeviceSpec("v6e", "tpu", 32 * GIB, 918.0, 4, 8, 1, "Trillium; 8 chips on a one-host slice"),
    DeviceSpec("a100-40g", "gpu", 40960 * MIB, 312.0, 8, 8, 1, "A100 SXM4 40GB"),
    DeviceSpec("a100-80g", "gpu", 81920 * MIB, 312.0, 8, 8, 1, "A100 SXM4 80GB"),
    DeviceSpec("h100", "gpu", 81559 * MIB, 989.0, 8, 8, 1, "H100 SXM5 80GB"),
    DeviceSpec("h200", "gpu", 143771 * MIB, 989.0, 8, 8, 1, "H200 SXM 141GB"),
)}

# TPU accelerator-type prefixes (``gcloud ... --accelerator-type``) -> family.
_TPU_TYPES = {"v3": "v3", "v4": "v4", "v5e": "v5e", "v5litepod": "v5e", "v5lite": "v5e",
              "v5p": "v5p", "v6e": "v6e"}


def resolve_device(name: str, num_devices: int | None = None) -> tuple[DeviceSpec, int]:
    """``("v4", None)`` -> (v4, 4); ``("v4-32", None)`` -> (v4, 16); ``("h100", 1)`` -> (h100, 1)."""
    key = name.strip().lower()
    count: int | None = None
    if key not in DEVICES:
        match = re.fullmatch(r"(v\d+[a-z]*)-(\d+)", key)
        if match and match.group(1) in _TPU_TYPES:
            spec = DEVICES[_TPU_TYPES[match.group(1)]]
            cores = int(match.group(2))
            if cores % spec.cores_per_device:
                raise ConfigError(f"accelerator type {name!r}: {cores} TensorCores do not make "
                                  f"whole {spec.name} devices")
            count = cores // spec.cores_per_device
            key = spec.name
        else:
            raise ConfigError(
                f"unknown device {name!r}; use one of {', '.join(DEVICES)} or a TPU "
                "accelerator type such as v4-32 or v5litepod-16")
    spec = DEVICES[key]
    if num_devices is not None:
        if num_devices < 1:
            raise ConfigError(f"num_devices must be >= 1, got {num_devices}")
        count = num_devices
    return spec, count if count is not None else spec.default_devices


def detect_device(device: Any) -> DeviceSpec | None:
    """The table's entry for a running ``jax.Device`` (by ``device_kind``), or ``None``
    (CPU, or an accelerator the table does not know)."""
    kind = str(getattr(device, "device_kind", "")).lower()
    if "h200" in kind:
        return DEVICES["h200"]
    if "h100" in kind:
        return DEVICES["h100"]
    if "a100" in kind:
        return DEVICES["a100-80g" if "80g" in kind.replace(" ", "") else "a100-40g"]
    if not kind.startswith("tpu"):
        return None
    if "v6" in kind:
        return DEVICES["v6e"]
    if "v5 lite" in kind or "v5e" in kind or "v5lite" in kind:
        return DEVICES["v5e"]
    if "v5" in kind:
        return DEVICES["v5p"]
    if "v4" in kind:
        return DEVICES["v4"]
    if "v3" in kind:
        return DEVICES["v3"]
    return None


def format_device_table() -> str:
    """The table as aligned text (``tools/memory_report.py --list_devices``)."""
    lines = [f"{'device':10} {'HBM/device':>11} {'bf16 TFLOP/s':>13} {'devices/host':>13} "
             f"{'default':>8}  note"]
    for d in DEVICES.values():
        lines.append(f"{d.name:10} {d.hbm_bytes / GIB:8.1f} GiB {d.peak_bf16_tflops:13.1f} "
                     f"{d.devices_per_host:13d} {d.default_devices:8d}  {d.note}")
    return "\n".join(lines)
