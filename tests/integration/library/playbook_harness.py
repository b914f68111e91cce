"""What the playbook tests share besides fixtures: the test key and the Endpoint type."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass

API_KEY = "integration-key-3b9d51f0c2a84e6d"


@dataclass
class Endpoint:
    """Where a playbook finds Ollama: url, key and CA file (None for plain HTTP)."""

    name: str
    url: str
    key: str | None
    ca_path: str | None
    sim_url: str  # direct, unauthenticated: for checking state behind the module's back

    def tags(self) -> list[str]:
        with urllib.request.urlopen(f"{self.sim_url}/api/tags", timeout=5) as response:
            return [m["name"] for m in json.load(response)["models"]]
