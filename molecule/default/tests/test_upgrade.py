"""Upgrades through the inventory: a new image version replaces the container only once it is
healthy, and a broken one is rolled back with a clear message, the old version still serving.
Runs last but one (file order): it leaves the AI server on the upgraded Traefik image, which
test_wiped_lab_restored.py's restore puts back to the inventory's."""

import subprocess
from pathlib import Path

import pytest

from conftest import API_KEY, curl_ai, on_controller_docker, run_playbook

BASE = "tradia/traefik:3.7.15"
DOCKERFILES = {
    # The same Traefik, a new version label: what a routine upgrade looks like.
    "next": f"FROM {BASE}\nLABEL org.tradia.test.version=next\n",
    # A release that cannot start (its entrypoint exits at once).
    "broken": (
        f"FROM {BASE}\nLABEL org.tradia.test.version=broken\n"
        'ENTRYPOINT ["/bin/sh", "-c", "echo this release is broken >&2; exit 3"]\n'
    ),
}


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The test images, built on the controller and saved as archives (as air-gapped sites do)."""
    folder = tmp_path_factory.mktemp("images")
    made = {}
    for tag, dockerfile in DOCKERFILES.items():
        subprocess.run(
            ["docker", "build", "-q", "-t", f"tradia/traefik:{tag}", "-"],
            input=dockerfile, text=True, capture_output=True, check=True, timeout=300,
        )  # fmt: skip
        made[tag] = folder / f"traefik-{tag}.tar"
        on_controller_docker("save", "-o", str(made[tag]), f"tradia/traefik:{tag}", timeout=300)
    return made


def _deploy_ai_traefik(tag: str, archive: Path) -> subprocess.CompletedProcess[str]:
    return run_playbook(
        "ai_server.yml",
        "-e", f"ai_server_traefik_image=tradia/traefik:{tag}",
        "-e", f"ai_server_traefik_image_archive={archive}",
    )  # fmt: skip


def _running_image(ai_server) -> str:
    return ai_server.check_output("docker inspect -f '{{.Config.Image}}' tradia-ai-traefik")


def _health(ai_server) -> str:
    return ai_server.check_output("docker inspect -f '{{.State.Health.Status}}' tradia-ai-traefik")


def _serves(ai_server, app_server) -> bool:
    ca_pem = ai_server.file("/etc/tradia/ai/tls/ca.crt").content_string
    return curl_ai(app_server, ca_pem, "-u", f"api:{API_KEY}") == "200"


def test_a_new_image_version_replaces_the_container(ai_server, app_server, archives):
    run = _deploy_ai_traefik("next", archives["next"])
    assert run.returncode == 0, run.stdout[-4000:]
    assert _running_image(ai_server) == "tradia/traefik:next"
    assert _health(ai_server) == "healthy"
    assert _serves(ai_server, app_server)


def test_a_broken_image_is_rolled_back_and_the_old_one_keeps_serving(
    ai_server, app_server, archives
):
    serving = ai_server.check_output("docker inspect -f '{{.Image}}' tradia-ai-traefik")
    run = _deploy_ai_traefik("broken", archives["broken"])
    assert run.returncode != 0, "a broken image was accepted"
    assert "did not become healthy" in run.stdout, run.stdout[-4000:]
    assert "tradia/traefik:broken" in run.stdout
    assert "previous images were started again" in run.stdout
    after = ai_server.check_output("docker inspect -f '{{.Image}}' tradia-ai-traefik")
    assert after == serving, "the rollback did not bring the previous image back"
    assert _health(ai_server) == "healthy"
    assert _serves(ai_server, app_server)
