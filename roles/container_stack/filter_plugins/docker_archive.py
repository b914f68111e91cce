"""The image ID inside a `docker save` archive, read on the controller: the images entry point
copies and loads an archive only when the host lacks that image, so a rerun moves no gigabytes
and hashes none."""

from __future__ import annotations

import json
import tarfile
from typing import Any

from ansible.errors import AnsibleFilterError

Images = list[dict[str, Any]]


def docker_archive_image_id(path: Any) -> str:
    """`sha256:<hex>` of the archive's image: its config digest, which is the image ID Docker's
    classic image store reports. (With the containerd image store the IDs differ and every run
    loads the archive again: slower, still correct.)"""
    try:
        with tarfile.open(str(path)) as archive:
            member = archive.extractfile("manifest.json")
            if member is None:
                raise KeyError("manifest.json")
            manifest = json.load(member)
    except (OSError, KeyError, tarfile.TarError, ValueError) as error:
        raise AnsibleFilterError(
            f"docker_archive_image_id: {path} is not a readable `docker save` archive: {error}"
        ) from error
    if not isinstance(manifest, list) or len(manifest) != 1 or "Config" not in manifest[0]:
        raise AnsibleFilterError(
            f"docker_archive_image_id: {path} must hold exactly one image (docker save <image>)"
        )
    # "<hex>.json" (Docker before 25) or "blobs/sha256/<hex>" (the OCI layout of Docker 25+).
    config = str(manifest[0]["Config"])
    digest = config.rsplit("/", 1)[-1].removesuffix(".json")
    return f"sha256:{digest}"


def _host_image_ids(host_images: Images) -> dict[str, str]:
    """{reference: image ID} from community.docker.docker_image_info's `images`."""
    return {tag: str(image["Id"]) for image in host_images for tag in image.get("RepoTags") or []}


def archives_to_load(images: Images, host_images: Images) -> Images:
    """The images given with an archive whose reference the host lacks or holds with another ID."""
    on_host = _host_image_ids(host_images)
    return [
        image
        for image in images
        if image.get("archive")
        and on_host.get(str(image["image"])) != docker_archive_image_id(image["archive"])
    ]


def images_to_pull(images: Images, host_images: Images) -> Images:
    """The images given without an archive that the host does not have yet (a pull of an image
    the host has changes nothing: docker_image only pulls a missing one)."""
    on_host = _host_image_ids(host_images)
    return [
        image for image in images if not image.get("archive") and str(image["image"]) not in on_host
    ]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "docker_archives_to_load": archives_to_load,
            "docker_images_to_pull": images_to_pull,
        }
