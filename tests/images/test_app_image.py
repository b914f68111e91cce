"""The app image as ops run it: built from app/ on the test bed's Python base, started beside the
simulator on a private network, healthy, and ready only while its AI server answers."""

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from docker_cli import docker, inspect, remove, wait_healthy

pytestmark = pytest.mark.docker

APP_DIR = Path(__file__).parents[2] / "app"
BASE_IMAGE = os.environ.get("TRADIA_TEST_BASE_IMAGE", "tradia/python:3.11-bookworm")
SIM_IMAGE = "tradia/ollama-sim:dev"
MODEL = "smollm2:135m"


def get_from_app(app: str, path: str) -> tuple[int, dict]:
    """GET a path from inside the app container (its port is never published)."""
    script = (
        "import json, urllib.request, urllib.error\n"
        "try:\n"
        f"    r = urllib.request.urlopen('http://127.0.0.1:8000{path}', timeout=10)\n"
        "    print(json.dumps([r.status, json.load(r)]))\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(json.dumps([e.code, json.load(e)]))\n"
    )
    status, body = json.loads(docker("exec", app, "python3", "-c", script))
    return status, body


@pytest.fixture(scope="module")
def app_image() -> str:
    tag = "tradia/app:test"
    docker("build", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", tag, str(APP_DIR))
    return tag


@pytest.fixture(scope="module")
def stack(app_image: str) -> Iterator[dict[str, str]]:
    suffix = uuid.uuid4().hex[:8]
    names = {
        "network": f"tradia-apptest-{suffix}",
        "sim": f"tradia-apptest-sim-{suffix}",
        "app": f"tradia-apptest-app-{suffix}",
    }
    try:
        docker("network", "create", names["network"])
        docker(
            "run", "-d", "--name", names["sim"], "--network", names["network"],
            "-e", f"OLLAMA_SIM_PRELOAD={MODEL}", "-e", "OLLAMA_SIM_PROFILE=instant",
            SIM_IMAGE,
        )  # fmt: skip
        docker(
            "run", "-d", "--name", names["app"], "--network", names["network"],
            "-e", f"OLLAMA_BASE_URL=http://{names['sim']}:11434",
            "-e", "OLLAMA_API_KEY=container-test-key-0123456789abcdef",
            "-e", f"OLLAMA_MODEL={MODEL}",
            app_image,
        )  # fmt: skip
        wait_healthy(names["sim"])
        wait_healthy(names["app"])
        yield names
    finally:
        remove(names["app"], names["sim"], network=names["network"])


def test_runs_as_non_root_and_unpublished(stack: dict[str, str]) -> None:
    state = inspect(stack["app"])
    assert state["Config"]["User"] == "10001:10001"
    assert not state["HostConfig"]["PortBindings"]
    # No test dependency shipped in the image. check=True: a pip that cannot run prints
    # nothing, and "pytest" is not in nothing.
    pip_list = docker("exec", stack["app"], "python3", "-m", "pip", "list", "--format=json")
    installed = {package["name"].lower() for package in json.loads(pip_list)}
    assert "fastapi" in installed, pip_list  # the listing is real: the app's own dependency
    assert not installed & {"pytest", "playwright"}, pip_list


def test_ready_when_the_simulator_serves_the_model(stack: dict[str, str]) -> None:
    status, body = get_from_app(stack["app"], "/readyz")
    assert status == 200, body
    status, settings = get_from_app(stack["app"], "/api/settings")
    assert status == 200
    assert MODEL in json.dumps(settings)


def test_not_ready_with_a_reason_when_the_ai_server_is_down(stack: dict[str, str]) -> None:
    docker("stop", stack["sim"])
    try:
        # The app shares one upstream check among pollers for TRADIA_UPSTREAM_CACHE_SECONDS (5):
        # a success seen just before may still be served that long.
        deadline = time.monotonic() + 15
        while (answer := get_from_app(stack["app"], "/readyz"))[0] == 200:
            assert time.monotonic() < deadline, "/readyz still 200 15 s after the AI server stopped"
            time.sleep(1)
        status, body = answer
        assert status == 503, body
        # The stopped container's name no longer resolves: the AI server is unreachable.
        assert body["reason"] == "llm_unreachable", body
        assert body["message"], body
        status, _ = get_from_app(stack["app"], "/healthz")
        assert status == 200, "liveness must not depend on the AI server"
    finally:
        docker("start", stack["sim"])
        wait_healthy(stack["sim"])
    status, body = get_from_app(stack["app"], "/readyz")
    assert status == 200, body
