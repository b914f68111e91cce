"""Real playbooks with ollama_info / ollama_model against the simulator, directly and behind a
real Traefik (TLS + basic auth). Each scenario runs against both endpoints (`endpoint` fixture).
"""

from __future__ import annotations

import base64
import json
import struct
import urllib.request
from pathlib import Path

import pytest
from playbook_harness import API_KEY, Endpoint

PULL_MODEL = "qwen3:8b"
CHECK_MODEL = "llama3.1:8b"


def write_gguf(path: Path, name: str) -> Path:
    """A small, valid GGUF v3 file: header + metadata, no tensors, then filler bytes."""

    def string(text: str) -> bytes:
        data = text.encode()
        return struct.pack("<Q", len(data)) + data

    metadata = [("general.architecture", "llama"), ("general.name", name)]
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, len(metadata))
    for key, value in metadata:
        header += string(key) + struct.pack("<I", 8) + string(value)
    path.write_bytes(header + bytes(range(256)) * 256)
    return path


def assert_key_hidden(run) -> None:
    assert API_KEY not in run.raw
    assert base64.b64encode(f"api:{API_KEY}".encode()).decode() not in run.raw


def info(required: list[str] | None = None, **extra) -> dict:
    return {"ollama_info": {"required_models": required or [], **extra}}


def test_lifecycle(endpoint: Endpoint, run_playbook, tmp_path: Path):
    """pull + GGUF import, idempotent second run, --check changes nothing, absent twice."""
    gguf = write_gguf(tmp_path / f"tradia-{endpoint.name}.gguf", f"tradia test {endpoint.name}")
    imported = f"tradia-import-{endpoint.name}:latest"
    present = [
        {
            "name": "pull",
            "ollama_model": {"name": PULL_MODEL, "retries": 1, "delay": 1},
            "register": "pulled",
        },
        {
            "name": "import",
            "ollama_model": {
                "name": imported,
                "source": "file",
                "path": str(gguf),
                "system": "Be brief.",
            },
        },
        {
            "name": "listable",
            "register": "listed",
            **info([PULL_MODEL, imported], gather_loaded=True),
        },
    ]

    first = run_playbook(f"present-{endpoint.name}", present, endpoint)
    assert first.rc == 0, first.raw
    assert first.stats["changed"] == 2
    pulled = first.task("pull")
    assert pulled["changed"] is True
    assert pulled["bytes"] > 0
    assert pulled["attempts"] == 1
    assert len(pulled["digest"]) == 64
    created = first.task("import")
    assert created["uploaded"] is True
    assert created["bytes"] == gguf.stat().st_size
    listed = first.task("listable")
    assert {PULL_MODEL, imported} <= set(listed["models"])
    assert listed["version"]
    assert isinstance(listed["loaded"], list)
    assert_key_hidden(first)

    second = run_playbook(f"present-{endpoint.name}", present, endpoint)
    assert second.rc == 0, second.raw
    assert second.stats["changed"] == 0
    assert second.task("pull")["digest"] == pulled["digest"]

    check = run_playbook(
        f"check-{endpoint.name}",
        [
            {"name": "pull other", "ollama_model": {"name": CHECK_MODEL}},
            {"name": "remove pulled", "ollama_model": {"name": PULL_MODEL, "state": "absent"}},
        ],
        endpoint,
        check=True,
    )
    assert check.rc == 0, check.raw
    assert check.stats["changed"] == 2
    tags = endpoint.tags()
    assert CHECK_MODEL not in tags
    assert PULL_MODEL in tags

    absent = [
        {"name": "remove pulled", "ollama_model": {"name": PULL_MODEL, "state": "absent"}},
        {"name": "remove imported", "ollama_model": {"name": imported, "state": "absent"}},
    ]
    removed = run_playbook(f"absent-{endpoint.name}", absent, endpoint)
    assert removed.rc == 0, removed.raw
    assert removed.stats["changed"] == 2
    assert PULL_MODEL not in endpoint.tags()
    assert imported not in endpoint.tags()
    again = run_playbook(f"absent-{endpoint.name}", absent, endpoint)
    assert again.rc == 0, again.raw
    assert again.stats["changed"] == 0


def test_failures_are_named(endpoint: Endpoint, run_playbook, tmp_path: Path):
    not_gguf = tmp_path / "not-a-model.bin"
    not_gguf.write_bytes(b"PK\x03\x04 this is a zip, not a GGUF" * 100)
    tasks = [
        {"name": "missing model", "ignore_errors": True, **info(["nosuch-model:1b", "smollm2"])},
        {
            "name": "unknown model",
            "ignore_errors": True,
            "ollama_model": {"name": "nosuch-model:1b", "retries": 0},
        },
        {
            "name": "not gguf",
            "ignore_errors": True,
            "ollama_model": {"name": "broken:latest", "source": "file", "path": str(not_gguf)},
        },
    ]
    run = run_playbook(f"failures-{endpoint.name}", tasks, endpoint)
    assert run.stats["failures"] == 0  # ignored
    missing = run.task("missing model")
    assert missing["failed"] is True
    assert missing["missing"] == ["nosuch-model:1b", "smollm2"]
    assert "nosuch-model:1b, smollm2" in missing["msg"]
    unknown = run.task("unknown model")
    assert unknown["failed"] is True
    assert unknown["error_kind"] == "registry_not_found"
    assert "not found in the registry" in unknown["msg"]
    broken = run.task("not gguf")
    assert broken["failed"] is True
    assert "not in GGUF format" in broken["msg"]
    assert "broken:latest" not in endpoint.tags()
    assert_key_hidden(run)


@pytest.fixture
def traefik_endpoint(traefik: str, sim: str, pki) -> Endpoint:
    return Endpoint("traefik", traefik, API_KEY, str(pki.ca_cert), sim)


def test_traefik_right_and_wrong_key(traefik_endpoint: Endpoint, run_playbook):
    right = run_playbook("right-key", [{"name": "info", **info()}], traefik_endpoint)
    assert right.rc == 0, right.raw
    assert_key_hidden(right)

    wrong_key = "wrong-" + API_KEY[::-1]
    wrong = run_playbook(
        "wrong-key",
        [
            {"name": "info", **info()},
            {"name": "pull", "ollama_model": {"name": PULL_MODEL}, "ignore_errors": True},
        ],
        traefik_endpoint,
        key=wrong_key,
    )
    assert wrong.rc != 0
    result = wrong.task("info")
    assert result["failed"] is True
    assert result["error_kind"] == "auth"
    assert result["msg"].startswith("authentication failed: check the API key")
    assert wrong_key not in wrong.raw
    assert_key_hidden(wrong)


def test_traefik_tls_needs_the_ca(traefik_endpoint: Endpoint, run_playbook):
    untrusted = Endpoint("traefik", traefik_endpoint.url, API_KEY, None, traefik_endpoint.sim_url)
    run = run_playbook("no-ca", [{"name": "info", **info()}], untrusted)
    assert run.rc != 0
    result = run.task("info")
    assert result["error_kind"] == "tls"
    assert "TLS certificate verification failed" in result["msg"]


def test_interrupted_pull_is_retried(endpoint: Endpoint, run_playbook):
    """The simulator drops the first pull stream mid-way; the module pulls again."""
    fault = json.dumps({"kind": "drop", "after": 2, "count": 1, "endpoints": ["pull"]}).encode()
    request = urllib.request.Request(
        f"{endpoint.sim_url}/_sim/fault",
        data=fault,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.load(response)["fault"]["kind"] == "drop"
    model = "qwen2.5vl:7b"
    run = run_playbook(
        f"retry-{endpoint.name}",
        [
            {"name": "pull", "ollama_model": {"name": model, "retries": 2, "delay": 0}},
            {"name": "clean up", "ollama_model": {"name": model, "state": "absent"}},
        ],
        endpoint,
    )
    assert run.rc == 0, run.raw
    pulled = run.task("pull")
    assert pulled["changed"] is True
    assert pulled["attempts"] == 2
    assert model not in endpoint.tags()


def test_client_digest_mismatch_against_sim(sim: str, tmp_path: Path):
    """The real simulator answers 400 when the bytes do not match the digest in the URL."""
    from ansible.module_utils.ollama_client import OllamaClient
    from ansible.module_utils.ollama_digests import file_sha256
    from ansible.module_utils.ollama_errors import OllamaError

    path = write_gguf(tmp_path / "a.gguf", "digest test")
    client = OllamaClient(sim, timeout=10)
    wrong = file_sha256(str(write_gguf(tmp_path / "b.gguf", "another file")))
    with pytest.raises(OllamaError) as caught:
        client.upload_blob(wrong, str(path))
    assert caught.value.kind == "digest_mismatch"
    assert not client.blob_exists(wrong)
    right = file_sha256(str(path))
    client.upload_blob(right, str(path))
    assert client.blob_exists(right)
