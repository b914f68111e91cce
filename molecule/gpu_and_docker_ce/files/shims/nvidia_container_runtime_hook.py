#!/usr/bin/python3
"""Test shim for nvidia-container-runtime-hook, the OCI prestart hook dockerd adds for GPU requests.

runc calls it with the container's state on stdin. It logs one JSON line per call (the container
id and the NVIDIA_* variables dockerd put in the OCI spec) and exits 0 where the real hook would
mount the driver into the container; without /dev/nvidiactl it fails like the real one.
"""

import json
import sys
import time
from pathlib import Path

LOG = Path("/var/log/nvidia-container-runtime-hook.log")
CONTROL_DEVICE = Path("/dev/nvidiactl")


def main(args: list[str]) -> int:
    state = json.load(sys.stdin) if args[:1] == ["prestart"] else {}
    env: dict[str, str] = {}
    bundle = state.get("bundle")
    if bundle:
        spec = json.loads((Path(bundle) / "config.json").read_text())
        env = dict(v.split("=", 1) for v in spec.get("process", {}).get("env", []) if "=" in v)
    entry = {
        "time": time.time(),
        "args": [Path(sys.argv[0]).name, *args],
        "id": state.get("id"),
        "pid": state.get("pid"),
        "NVIDIA_VISIBLE_DEVICES": env.get("NVIDIA_VISIBLE_DEVICES"),
        "NVIDIA_DRIVER_CAPABILITIES": env.get("NVIDIA_DRIVER_CAPABILITIES"),
        "device": CONTROL_DEVICE.exists(),
    }
    with LOG.open("a") as log:
        log.write(json.dumps(entry) + "\n")
    if not CONTROL_DEVICE.exists():
        error = "nvidia-container-cli: initialization error: nvml error: driver not loaded"
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
