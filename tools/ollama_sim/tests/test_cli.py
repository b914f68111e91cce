"""The command line: bad values fail clearly; settings from the environment; `ollama list`."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from ollama_sim.testing import ServerProcess, free_port, http_status

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 20


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=60
    )


def test_unknown_profile_lists_the_valid_ones() -> None:
    result = _run([str(BIN / "ollama-sim"), "serve", "--profile", "warp"])
    assert result.returncode == 2
    assert "OLLAMA_SIM_PROFILE: unknown value 'warp'" in result.stderr
    assert "instant, rtx4090, l40s, l4" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OLLAMA_NUM_PARALLEL", "0"),
        ("OLLAMA_NUM_PARALLEL", "many"),
        ("OLLAMA_MAX_QUEUE", "-1"),
        ("OLLAMA_KEEP_ALIVE", "soon"),
        ("OLLAMA_CONTEXT_LENGTH", "4k"),
        ("OLLAMA_SIM_BACKEND", "gpu"),
        ("OLLAMA_HOST", "localhost:port"),
        ("OLLAMA_SIM_FAULT", "meteor"),
    ],
)
def test_bad_environment_values_fail_naming_the_variable(variable: str, value: str) -> None:
    result = _run([str(BIN / "ollama-sim"), "serve"], env={variable: value})
    assert result.returncode == 2
    assert variable in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_fault_delay_fails() -> None:
    env = {"OLLAMA_SIM_FAULT": "slow_tokens", "OLLAMA_SIM_FAULT_DELAY": "forever"}
    result = _run([str(BIN / "ollama-sim"), "serve"], env=env)
    assert result.returncode == 2
    assert "OLLAMA_SIM_FAULT_DELAY: delay must be a number" in result.stderr


def test_catalog_command_builds_and_lists(tmp_path: Path) -> None:
    result = _run([str(BIN / "ollama-sim"), "catalog", "--catalog-dir", str(tmp_path / "c")])
    assert result.returncode == 0
    names = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert {"llama3.1:8b", "qwen3:8b", "qwen2.5vl:7b"} <= set(names)
    assert (tmp_path / "c" / "manifests" / "registry.ollama.ai" / "library").is_dir()


@contextmanager
def _serve(env: dict[str, str], log: Path) -> Iterator[ServerProcess]:
    argv = [str(BIN / "ollama-sim"), "serve", "--log-level", "warning"]
    with ServerProcess(argv, log, {**os.environ, **env}) as server:
        url = f"http://{env['OLLAMA_HOST']}/"
        server.wait_ready(lambda: http_status(url) is not None, "ollama-sim", START_TIMEOUT_S)
        yield server


def test_serve_from_the_environment(tmp_path: Path, catalog_dir: Path) -> None:
    host = f"127.0.0.1:{free_port()}"
    env = {
        "OLLAMA_HOST": host,
        "OLLAMA_MODELS": str(tmp_path / "models"),
        "OLLAMA_SIM_CATALOG": str(catalog_dir),
        "OLLAMA_SIM_PRELOAD": "llama3.1:8b",
        "OLLAMA_SIM_FAULT": "drop",
        "OLLAMA_SIM_FAULT_AFTER": "2",
        "OLLAMA_SIM_FAULT_COUNT": "1",
    }
    body = {"model": "llama3.1:8b", "messages": [{"role": "user", "content": "some words here"}]}
    with _serve(env, tmp_path / "first.log"):
        listed = _run([str(BIN / "ollama"), "list"], env={"OLLAMA_HOST": host})
        version = _run([str(BIN / "ollama"), "--version"], env={"OLLAMA_HOST": host})
        lines: list[str] = []
        with pytest.raises(httpx.RemoteProtocolError):
            _collect(f"http://{host}/api/chat", body, lines)
        after = httpx.post(f"http://{host}/api/chat", json=body, timeout=10)
        ps = _run([str(BIN / "ollama"), "ps"], env={"OLLAMA_HOST": host})
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[0].split() == ["NAME", "ID", "SIZE", "MODIFIED"]
    assert "llama3.1:8b" in listed.stdout
    assert version.stdout.strip() == "ollama version is 0.12.6"
    assert len(lines) == 2, "the env fault dropped the stream after 2 chunks"
    assert json.loads(after.text.splitlines()[-1])["done"] is True, "FAULT_COUNT=1"
    assert ps.returncode == 0
    assert "llama3.1:8b" in ps.stdout
    assert "minutes from now" in ps.stdout

    # The store survives a restart (no preload this time), and `ollama list` fails when down.
    del env["OLLAMA_SIM_PRELOAD"], env["OLLAMA_SIM_FAULT"]
    with _serve(env, tmp_path / "second.log"):
        tags = httpx.get(f"http://{host}/api/tags").json()["models"]
    assert [m["name"] for m in tags] == ["llama3.1:8b"]
    down = _run([str(BIN / "ollama"), "list"], env={"OLLAMA_HOST": host})
    assert down.returncode == 1
    assert "could not connect" in down.stderr


def _collect(url: str, body: dict, lines: list[str]) -> None:
    with httpx.stream("POST", url, json=body, timeout=10) as response:
        lines.extend(response.iter_lines())


def test_bad_preload_stops_the_server(tmp_path: Path, catalog_dir: Path) -> None:
    env = {
        "OLLAMA_HOST": f"127.0.0.1:{free_port()}",
        "OLLAMA_MODELS": str(tmp_path / "models"),
        "OLLAMA_SIM_CATALOG": str(catalog_dir),
        "OLLAMA_SIM_PRELOAD": "nope:1b",
    }
    result = _run([str(BIN / "ollama-sim"), "serve"], env=env)
    assert result.returncode != 0
    assert "OLLAMA_SIM_PRELOAD: nope:1b" in result.stderr
