"""The machine a part ran on: CPUs, load, what else was running (the machine is shared)."""

import os
import platform
import time
from typing import Any


def snapshot() -> dict[str, Any]:
    load = os.getloadavg()
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if "model name" in line), "")
    except OSError:
        pass
    return {
        "time": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "load_1_5_15": [round(value, 2) for value in load],
        "python": platform.python_version(),
    }
