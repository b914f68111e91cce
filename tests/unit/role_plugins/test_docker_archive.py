"""The images entry point copies and loads an archive only when the host lacks its image
(roles/container_stack/filter_plugins/docker_archive.py)."""

import io
import json
import tarfile
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from role_plugin_loader import load_plugin

PLUGIN = load_plugin("container_stack", "filter", "docker_archive")
HEX = "ab" * 32


def _archive(path: Path, manifest: object) -> Path:
    """A tar with only the manifest: all the filter reads."""
    data = json.dumps(manifest).encode()
    with tarfile.open(path, "w") as archive:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    "config",
    [f"{HEX}.json", f"blobs/sha256/{HEX}"],  # Docker before 25, the OCI layout of 25+
)
def test_image_id_from_either_layout(tmp_path: Path, config: str) -> None:
    path = _archive(tmp_path / "a.tar", [{"Config": config, "RepoTags": ["x:1"]}])
    assert PLUGIN.docker_archive_image_id(path) == f"sha256:{HEX}"


@pytest.mark.parametrize(
    "manifest", [[], [{"Config": "a.json"}, {"Config": "b.json"}], {"Config": "a.json"}]
)
def test_archive_with_other_than_one_image_is_refused(tmp_path: Path, manifest: object) -> None:
    with pytest.raises(AnsibleFilterError, match="exactly one image"):
        PLUGIN.docker_archive_image_id(_archive(tmp_path / "a.tar", manifest))


def test_unreadable_archive_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "not-a.tar"
    path.write_text("hello")
    with pytest.raises(AnsibleFilterError, match=r"not-a\.tar"):
        PLUGIN.docker_archive_image_id(path)


def test_only_missing_or_different_images_are_loaded(tmp_path: Path) -> None:
    same = _archive(tmp_path / "same.tar", [{"Config": f"{HEX}.json"}])
    other = _archive(tmp_path / "other.tar", [{"Config": f"{'cd' * 32}.json"}])
    missing = _archive(tmp_path / "missing.tar", [{"Config": f"{HEX}.json"}])
    images = [
        {"image": "app:1", "archive": str(same)},
        {"image": "proxy:1", "archive": str(other)},
        {"image": "new:1", "archive": str(missing)},
        {"image": "pulled:1", "archive": ""},
        {"image": "registry/present:2"},
    ]
    host = [
        {"Id": f"sha256:{HEX}", "RepoTags": ["app:1", "proxy:1"]},
        {"Id": "sha256:ef", "RepoTags": ["registry/present:2"]},
        {"Id": "sha256:00", "RepoTags": None},  # a dangling image
    ]
    loaded = PLUGIN.archives_to_load(images, host)
    assert [image["image"] for image in loaded] == ["proxy:1", "new:1"]
    pulled = PLUGIN.images_to_pull(images, host)
    assert [image["image"] for image in pulled] == ["pulled:1"]
