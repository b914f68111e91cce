"""The docker_engine role's default path, docker_engine_source: docker_ce, against gpu-repo's local,
signed copy of Docker's apt repository (download.docker.com's layout): the deb822 source with
Signed-By, the legacy docker.list prepare planted removed, docker-ce, docker-ce-cli and
containerd.io installed from that repository, and the running dockerd is docker-ce's. The GPU
tests in test_gpu.py run on this same engine."""

from conftest import (
    DOCKER_LEGACY_SOURCE,
    DOCKER_REPO_KEY,
    DOCKER_REPO_URL,
    DOCKER_SOURCE,
    SOURCE,
    apt_update_with,
    check_json,
    installed_from,
    source_fields,
)

# The role's defaults: Docker's packages, and the legacy one-line sources it removes.
DOCKER_PACKAGES = ("docker-ce", "docker-ce-cli", "containerd.io")
LEGACY_SOURCES = (
    DOCKER_LEGACY_SOURCE,
    "/etc/apt/sources.list.d/download_docker_com_linux_debian.list",
    "/etc/apt/sources.list.d/download_docker_com_linux_ubuntu.list",
)


def test_docker_source_is_deb822_with_signed_by(ai_server, repo):
    source = ai_server.file(DOCKER_SOURCE)
    assert source.exists
    assert source.user == "root"
    fields = source_fields(source.content_string)
    assert fields["Types"] == "deb"
    assert fields["URIs"] == DOCKER_REPO_URL
    assert fields["Suites"] == "bookworm"
    assert fields["Components"] == "stable"
    assert fields["Architectures"] == "amd64"
    # Signed-By names the key file the role downloaded, not an inline key or a global keyring.
    assert fields["Signed-By"].startswith("/etc/apt/keyrings/"), fields
    key = ai_server.file(fields["Signed-By"])
    assert key.exists
    assert key.user == "root"
    assert key.mode & 0o022 == 0
    served = repo.file(DOCKER_REPO_KEY).content_string.strip()
    assert key.content_string.strip() == served
    # Docker's repository has its own key, not the NVIDIA repository's.
    nvidia_key = source_fields(ai_server.file(SOURCE).content_string)["Signed-By"]
    assert nvidia_key != fields["Signed-By"]
    assert ai_server.file(nvidia_key).content_string.strip() != served


def test_legacy_docker_sources_were_removed(ai_server):
    # prepare left Docker's old one-line docker.list beside the deb822 source (apt refused both).
    for path in LEGACY_SOURCES:
        assert not ai_server.file(path).exists, path
    listed = ai_server.check_output(
        "grep -rl gpu-repo:8081 /etc/apt/ --include='*.list*' --include='*.sources'"
    )
    assert listed.split() == [DOCKER_SOURCE]
    # apt reads all its sources again without "Conflicting values set for option Signed-By".
    result = ai_server.run("apt-cache policy")
    assert result.rc == 0, result.stderr
    assert "Conflicting" not in result.stderr, result.stderr


def test_apt_verifies_the_docker_repository_signature(ai_server):
    rc, out = apt_update_with(ai_server, DOCKER_SOURCE)
    assert rc == 0, out
    assert "gpu-repo:8081/linux/debian bookworm InRelease" in out, out
    # The same source signed-by the NVIDIA repository's key is refused.
    nvidia_key = source_fields(ai_server.file(SOURCE).content_string)["Signed-By"]
    wrong = ai_server.check_output("mktemp --suffix=.sources")
    try:
        ai_server.run_expect(
            [0], "sed 's#^Signed-By:.*#Signed-By: %s#' %s > %s", nvidia_key, DOCKER_SOURCE, wrong
        )
        rc, out = apt_update_with(ai_server, wrong)
    finally:
        ai_server.run("rm -f %s", wrong)
    assert rc != 0
    assert "NO_PUBKEY" in out, out


def test_docker_ce_packages_are_installed_from_the_repository(ai_server):
    for package in DOCKER_PACKAGES:
        assert ai_server.package(package).is_installed, package
        origins = installed_from(ai_server, package)
        assert f"{DOCKER_REPO_URL} bookworm/stable amd64 Packages" in origins, (package, origins)
    assert ai_server.package("docker-ce").version.startswith("5:")  # Docker's epoch
    # Debian's engine package is not there (it conflicts with docker-ce and docker-ce-cli).
    assert not ai_server.package("docker.io").is_installed
    owners = {"/usr/sbin/dockerd": "docker-ce", "/usr/bin/docker": "docker-ce-cli"}
    for path, package in owners.items():
        assert ai_server.check_output("dpkg -S %s", path).split(":")[0] == package, path


def test_dockerd_from_docker_ce_runs(ai_server):
    docker = ai_server.service("docker")
    assert docker.is_running
    assert docker.is_enabled
    pid = ai_server.check_output("systemctl show --property MainPID --value docker")
    assert ai_server.check_output("readlink /proc/%s/exe", pid) == "/usr/sbin/dockerd"
    server = check_json(ai_server, "docker version --format '{{json .Server}}'")
    # The engine inside docker-ce: the version its package name carries.
    upstream = ai_server.package("docker-ce").version.split(":")[1].split("-")[0]
    assert server["Version"].startswith(upstream), server
