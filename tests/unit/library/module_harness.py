"""Running a module's main() in-process and reading what it printed (shared by the unit tests)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[3]

API_KEY = "s3cret-Tradia-key-7f1c2e9a"


def load_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"tradia_{name}", REPO / "library" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ModuleRun:
    """The JSON a module printed, plus whether it failed, and the raw text (for leak checks)."""

    def __init__(self, raw: str, rc: int) -> None:
        self.raw = raw
        self.rc = rc
        self.result: dict[str, Any] = json.loads(raw)

    @property
    def failed(self) -> bool:
        return bool(self.result.get("failed"))

    def __getitem__(self, key: str) -> Any:
        return self.result[key]
