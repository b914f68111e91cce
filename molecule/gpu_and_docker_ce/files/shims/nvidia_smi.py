#!/usr/bin/python3
"""Test shim for the driver's nvidia-smi: one NVIDIA L4, answered only while /dev/nvidiactl exists.

Answers the queries the ai_server role and roles/monitoring's GPU collector make
(--query-gpu=... --format=csv[,noheader][,nounits]) and -L; like the real tool, it fails with
exit code 9 when the driver's control device is missing.
"""

import stat
import sys
from pathlib import Path

CONTROL_DEVICE = Path("/dev/nvidiactl")
GPU = {
    "index": ("0", ""),
    "name": ("NVIDIA L4", ""),
    "uuid": ("GPU-5f0c3f5e-0000-4000-8000-000000000001", ""),
    "pci.bus_id": ("00000000:00:03.0", ""),
    "driver_version": ("550.127.05", ""),
    "memory.total": ("23034", " MiB"),
    "memory.used": ("0", " MiB"),
    "memory.free": ("22563", " MiB"),
    # Asked by roles/monitoring's collector (files/nvidia_smi_metrics.py): an idle GPU.
    "utilization.gpu": ("0", " %"),
}


def driver_loaded() -> bool:
    try:
        return stat.S_ISCHR(CONTROL_DEVICE.stat().st_mode)
    except FileNotFoundError:
        return False


def query(fields: list[str], formats: set[str]) -> str:
    unknown = [f for f in fields if f not in GPU]
    if unknown:
        sys.exit(f'Field "{unknown[0]}" is not a valid field to query.')
    units = "nounits" not in formats
    values = [GPU[f][0] + (GPU[f][1] if units else "") for f in fields]
    lines = [", ".join(values)]
    if "noheader" not in formats:
        header = [f + (f" [{GPU[f][1].strip()}]" if units and GPU[f][1] else "") for f in fields]
        lines.insert(0, ", ".join(header))
    return "\n".join(lines)


def main(args: list[str]) -> int:
    if not driver_loaded():
        print(
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
            "Make sure that the latest NVIDIA driver is installed and running."
        )
        return 9
    options = dict(a.split("=", 1) for a in args if a.startswith("--") and "=" in a)
    if "--query-gpu" in options:
        formats = set(options.get("--format", "").split(","))
        print(query(options["--query-gpu"].split(","), formats))
    elif "-L" in args:
        print(f"GPU 0: {GPU['name'][0]} (UUID: {GPU['uuid'][0]})")
    else:
        print(f"NVIDIA-SMI shim | Driver Version: {GPU['driver_version'][0]}")
        print(f"0  {GPU['name'][0]}  {GPU['memory.used'][0]}MiB / {GPU['memory.total'][0]}MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
