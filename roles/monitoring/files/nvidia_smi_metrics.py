#!/usr/bin/python3
"""GPU metrics for node exporter's textfile collector, from the driver's nvidia-smi.

Where NVIDIA's dcgm-exporter cannot run, a systemd timer runs this script: it queries
`nvidia-smi --query-gpu=... --format=csv,noheader,nounits` and writes the Prometheus text format
to <directory>/tradia_gpu.prom (atomically: node exporter never reads half a file). The
monitoring role's recording rules turn these into the same tradia:gpu_* series as dcgm-exporter's.

Usage: nvidia_smi_metrics.py <textfile directory> [--nvidia-smi PATH]
Standard library only: it runs with the host's python3.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
OUTPUT_NAME = "tradia_gpu.prom"
# Identity columns first; each (metric, help, conversion) column after them. nvidia-smi prints
# "[N/A]" or "[Not Supported]" for a value a GPU cannot report: that sample is left out.
LABEL_FIELDS = ("index", "uuid", "name")


def _mib(value: float) -> float:
    return value * MIB


def _percent(value: float) -> float:
    # A division, so 42 % is written 0.42 (not 0.42000000000000004).
    return value / 100


VALUE_FIELDS = {
    "memory.total": ("tradia_gpu_memory_total_bytes", "GPU memory size in bytes", _mib),
    "memory.used": ("tradia_gpu_memory_used_bytes", "GPU memory used in bytes", _mib),
    "utilization.gpu": (
        "tradia_gpu_utilization_ratio",
        "Share of the last sample period the GPU was busy (0-1)",
        _percent,
    ),
}
QUERY_FIELDS = (*LABEL_FIELDS, *VALUE_FIELDS)
UP_METRIC = "tradia_gpu_nvidia_smi_up"


@dataclass
class Gpu:
    labels: dict[str, str]
    values: dict[str, float] = field(default_factory=dict)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def parse(output: str, fields: tuple[str, ...] = QUERY_FIELDS) -> list[Gpu]:
    """The GPUs of nvidia-smi's `csv,noheader,nounits` output for `fields`, in that order."""
    gpus = []
    for line in output.splitlines():
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split(",")]
        if len(cells) != len(fields):
            raise ValueError(f"expected {len(fields)} columns, got {len(cells)}: {line!r}")
        row = dict(zip(fields, cells, strict=True))
        labels = {
            "gpu": row.get("index", str(len(gpus))),
            "uuid": row.get("uuid", ""),
            "name": row.get("name", ""),
        }
        gpu = Gpu(labels)
        for name, (metric, _help, convert) in VALUE_FIELDS.items():
            raw = row.get(name)
            if raw is None or raw.startswith("["):
                continue
            gpu.values[metric] = convert(float(raw))
        gpus.append(gpu)
    return gpus


def render(gpus: list[Gpu], up: bool) -> str:
    lines = [
        f"# HELP {UP_METRIC} Whether nvidia-smi answered at the last collection",
        f"# TYPE {UP_METRIC} gauge",
        f"{UP_METRIC} {1 if up else 0}",
    ]
    for metric, help_text, _convert in VALUE_FIELDS.values():
        samples = [gpu for gpu in gpus if metric in gpu.values]
        if not samples:
            continue
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
        for gpu in samples:
            labels = ",".join(f'{key}="{_escape(value)}"' for key, value in gpu.labels.items())
            lines.append(f"{metric}{{{labels}}} {gpu.values[metric]!r}")
    return "\n".join(lines) + "\n"


def collect(nvidia_smi: str) -> tuple[list[Gpu], bool]:
    command = [nvidia_smi, f"--query-gpu={','.join(QUERY_FIELDS)}", "--format=csv,noheader,nounits"]
    try:
        result = subprocess.run(  # noqa: S603 - nvidia-smi named by the systemd unit
            command, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        print(f"nvidia_smi_metrics: {error}", file=sys.stderr)
        return [], False
    if result.returncode != 0:
        # The driver's own message (e.g. "couldn't communicate with the NVIDIA driver").
        print(f"nvidia_smi_metrics: {(result.stdout + result.stderr).strip()}", file=sys.stderr)
        return [], False
    return parse(result.stdout), True


def write_atomically(directory: Path, text: str) -> Path:
    target = directory / OUTPUT_NAME
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tradia_gpu.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="node exporter's textfile directory")
    parser.add_argument("--nvidia-smi", default="nvidia-smi", help="the nvidia-smi to run")
    args = parser.parse_args(argv)
    gpus, up = collect(args.nvidia_smi)
    write_atomically(args.directory, render(gpus, up))
    # A failed query is reported as tradia_gpu_nvidia_smi_up 0, and to the timer's journal.
    return 0 if up else 1


if __name__ == "__main__":
    sys.exit(main())
