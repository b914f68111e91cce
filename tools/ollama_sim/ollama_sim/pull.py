"""`pull`: copy a model from the catalog into the store, reporting progress like Ollama."""

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ollama_sim.names import ModelName
from ollama_sim.responses import ApiError
from ollama_sim.store import Layer, Store

NOT_FOUND = "pull model manifest: file does not exist"
COPY_BLOCK = 1024 * 1024


def _copy_block(reader: Any, writer: Any, hasher: Any) -> int:
    block = reader.read(COPY_BLOCK)
    hasher.update(block)
    writer.write(block)
    return len(block)


async def _copy_layer(catalog: Store, store: Store, layer: Layer) -> AsyncIterator[dict[str, Any]]:
    status = f"pulling {layer.digest[7:19]}"
    if store.has_blob(layer.digest):
        yield {
            "status": status,
            "digest": layer.digest,
            "total": layer.size,
            "completed": layer.size,
        }
        return
    yield {"status": status, "digest": layer.digest, "total": layer.size}
    target = store.blob_path(layer.digest)
    partial = target.with_name(f"{target.name}-partial-{secrets.token_hex(4)}")
    hasher = hashlib.sha256()
    try:
        with catalog.blob_path(layer.digest).open("rb") as reader, partial.open("wb") as writer:
            completed = 0
            while completed < layer.size:
                try:
                    copied = await asyncio.to_thread(_copy_block, reader, writer, hasher)
                except OSError as error:
                    # A full disk ends the pull with Ollama's Go-style message.
                    raise ApiError(500, f"write {partial}: {_reason(error)}") from None
                if copied == 0:
                    break
                completed += copied
                yield {
                    "status": status,
                    "digest": layer.digest,
                    "total": layer.size,
                    "completed": completed,
                }
        if f"sha256:{hasher.hexdigest()}" != layer.digest:
            raise ApiError(500, f"digest mismatch, file must be downloaded again: {layer.digest}")
        partial.replace(target)
    except OSError as error:
        # Closing (flushing) the partial file can hit the full disk too.
        raise ApiError(500, f"write {partial}: {_reason(error)}") from None
    finally:
        # Never a half-written blob left behind: the store only holds verified files.
        partial.unlink(missing_ok=True)


async def pull(catalog: Store, store: Store, name: ModelName) -> AsyncIterator[dict[str, Any]]:
    yield {"status": "pulling manifest"}
    source = catalog.get(name)
    if source is None:
        raise ApiError(500, NOT_FOUND)
    previous = store.get(name)
    for layer in (*source.layers, source.config_layer):
        async for progress in _copy_layer(catalog, store, layer):
            yield progress
    yield {"status": "verifying sha256 digest"}
    yield {"status": "writing manifest"}
    _copy_manifest(catalog.manifest_file(name), store.manifest_file(name))
    yield {"status": "removing unused layers"}
    if previous is not None:
        store.remove_unused(previous.digests())
    yield {"status": "success"}


def _reason(error: OSError) -> str:
    """`no space left on device`, as Go's syscall errors read."""
    return (error.strerror or str(error)).lower()


def _copy_manifest(source: Path, target: Path) -> None:
    # Byte for byte, so the model's digest (sha256 of the manifest) equals the registry's.
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
    try:
        partial.write_bytes(source.read_bytes())
        partial.replace(target)
    except OSError as error:
        raise ApiError(500, f"write {partial}: {_reason(error)}") from None
    finally:
        partial.unlink(missing_ok=True)
