"""The model store, laid out like Ollama's: `manifests/<host>/<ns>/<model>/<tag>` + `blobs/`.

Blobs are named `sha256-<hex>` after the sha256 of their bytes; a model's digest is the sha256
of its manifest file. The catalog the simulator "pulls" from is a store with the same layout.
"""

import hashlib
import json
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ollama_sim.names import ModelName

MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_MEDIA_TYPE = "application/vnd.docker.container.image.v1+json"
MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model"
TEMPLATE_MEDIA_TYPE = "application/vnd.ollama.image.template"
SYSTEM_MEDIA_TYPE = "application/vnd.ollama.image.system"
PARAMS_MEDIA_TYPE = "application/vnd.ollama.image.params"
LICENSE_MEDIA_TYPE = "application/vnd.ollama.image.license"

_HEX64 = frozenset("0123456789abcdef")


class InvalidDigest(ValueError):
    """Not `sha256:<64 lowercase hex>`."""


def check_digest(digest: str) -> str:
    """Return the hex part of a `sha256:<hex>` digest (Ollama also accepts `sha256-<hex>`)."""
    prefix, hex_part = digest[:7], digest[7:]
    if prefix not in ("sha256:", "sha256-") or len(hex_part) != 64 or set(hex_part) - _HEX64:
        raise InvalidDigest("invalid digest format")
    return hex_part


@dataclass(frozen=True)
class Layer:
    media_type: str
    digest: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class StoredModel:
    """One manifest of the store, with what Ollama's endpoints report about it."""

    name: ModelName
    digest: str
    modified_ns: int
    config: dict[str, Any]
    config_layer: Layer
    layers: tuple[Layer, ...]

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers) + self.config_layer.size

    def digests(self) -> set[str]:
        return {self.config_layer.digest, *(layer.digest for layer in self.layers)}

    def layer(self, media_type: str) -> Layer | None:
        return next((layer for layer in self.layers if layer.media_type == media_type), None)


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.manifests = root / "manifests"

    def ensure(self) -> None:
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.manifests.mkdir(parents=True, exist_ok=True)

    def blob_path(self, digest: str) -> Path:
        return self.blobs / f"sha256-{check_digest(digest)}"

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def _partial_path(self, digest: str) -> Path:
        return self.blobs / f"sha256-{check_digest(digest)}-partial-{secrets.token_hex(4)}"

    async def write_blob_stream(self, digest: str, chunks: AsyncIterator[bytes]) -> str:
        """Stream bytes to disk, verify them, then publish under `digest`; returns the real one.

        The upload is never held in memory; on a mismatch nothing is published.
        """
        partial = self._partial_path(digest)
        hasher = hashlib.sha256()
        try:
            with partial.open("wb") as handle:
                async for chunk in chunks:
                    hasher.update(chunk)
                    handle.write(chunk)
            actual = f"sha256:{hasher.hexdigest()}"
            if actual == f"sha256:{check_digest(digest)}":
                partial.replace(self.blob_path(digest))
            return actual
        finally:
            partial.unlink(missing_ok=True)

    def write_blob_bytes(self, data: bytes) -> Layer:
        digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
        if not self.has_blob(digest):
            partial = self._partial_path(digest)
            partial.write_bytes(data)
            partial.replace(self.blob_path(digest))
        return Layer("", digest, len(data))

    def manifest_file(self, name: ModelName) -> Path:
        return self.manifests / name.manifest_path

    def get(self, name: ModelName) -> StoredModel | None:
        path = self.manifest_file(name)
        try:
            raw = path.read_bytes()
            modified_ns = path.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        manifest = json.loads(raw)
        config_entry = manifest["config"]
        config_layer = Layer(
            config_entry["mediaType"], config_entry["digest"], config_entry["size"]
        )
        config = json.loads(self.blob_path(config_layer.digest).read_bytes())
        layers = tuple(
            Layer(entry["mediaType"], entry["digest"], entry["size"])
            for entry in manifest["layers"]
        )
        return StoredModel(
            name=name,
            digest=hashlib.sha256(raw).hexdigest(),
            modified_ns=modified_ns,
            config=config,
            config_layer=config_layer,
            layers=layers,
        )

    def write_manifest(self, name: ModelName, config_layer: Layer, layers: list[Layer]) -> None:
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": config_layer.to_json(),
            "layers": [layer.to_json() for layer in layers],
        }
        path = self.manifest_file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        partial.write_text(json.dumps(manifest))
        partial.replace(path)

    def write_config(self, config: dict[str, Any]) -> Layer:
        layer = self.write_blob_bytes(json.dumps(config, sort_keys=True).encode())
        return Layer(CONFIG_MEDIA_TYPE, layer.digest, layer.size)

    def names(self) -> Iterator[ModelName]:
        if not self.manifests.is_dir():
            return
        for path in sorted(self.manifests.glob("*/*/*/*")):
            if path.is_file() and not path.name.startswith("."):
                host, namespace, model, tag = path.relative_to(self.manifests).parts
                yield ModelName(host, namespace, model, tag)

    def models(self) -> list[StoredModel]:
        found = (self.get(name) for name in self.names())
        return [model for model in found if model is not None]

    def delete(self, name: ModelName) -> bool:
        model = self.get(name)
        if model is None:
            return False
        path = self.manifest_file(name)
        path.unlink()
        for parent in (path.parent, path.parent.parent):
            if parent != self.manifests and not any(parent.iterdir()):
                parent.rmdir()
        self.remove_unused(model.digests())
        return True

    def remove_unused(self, candidates: set[str]) -> None:
        """Remove those of `candidates` no manifest references any more.

        Like Ollama, only the layers of a replaced or deleted manifest are candidates: blobs
        uploaded for a create that has not happened yet stay.
        """
        used: set[str] = set()
        for model in self.models():
            used |= model.digests()
        for digest in candidates - used:
            self.blob_path(digest).unlink(missing_ok=True)


def file_digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return f"sha256:{hasher.hexdigest()}"


def link_or_copy(source: Path, target: Path) -> None:
    """Place `source` at `target` atomically: a hard link when possible, else a copy."""
    partial = target.with_name(f"{target.name}-partial-{secrets.token_hex(4)}")
    try:
        os.link(source, partial)
    except OSError:
        with source.open("rb") as reader, partial.open("wb") as writer:
            for block in iter(lambda: reader.read(1 << 20), b""):
                writer.write(block)
    partial.replace(target)
