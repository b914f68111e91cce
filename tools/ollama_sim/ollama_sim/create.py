"""`create`: a model from uploaded GGUF blobs (`files`) or from another model (`from`)."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ollama_sim import gguf
from ollama_sim.model_facts import ModelFacts, config_from_metadata
from ollama_sim.names import ModelName
from ollama_sim.responses import ApiError
from ollama_sim.store import (
    LICENSE_MEDIA_TYPE,
    MODEL_MEDIA_TYPE,
    PARAMS_MEDIA_TYPE,
    SYSTEM_MEDIA_TYPE,
    TEMPLATE_MEDIA_TYPE,
    InvalidDigest,
    Layer,
    Store,
)

NOT_GGUF = "supplied file was not in GGUF format"


@dataclass(frozen=True)
class CreatePlan:
    """A create request checked before anything is streamed (so its errors get a 4xx)."""

    name: ModelName
    weights: Layer
    base_layers: tuple[Layer, ...]
    config: dict[str, Any]
    texts: dict[str, str]  # media type -> text, replacing the base's layer of that type
    parameters: dict[str, Any] | None


def _weights_from_files(store: Store, files: dict[str, Any]) -> tuple[Layer, dict[str, Any]]:
    for filename, digest in files.items():
        if not isinstance(digest, str):
            raise ApiError(400, f"invalid digest for {filename}")
        try:
            path = store.blob_path(digest)
        except InvalidDigest as error:
            raise ApiError(400, str(error)) from None
        if not path.is_file():
            raise ApiError(400, f"open {path}: no such file or directory")
    gguf_files = [name for name in files if name.endswith(".gguf")] or list(files)
    digest = files[gguf_files[0]]
    path = store.blob_path(digest)
    if not gguf.has_magic(path):
        raise ApiError(400, NOT_GGUF)
    metadata = gguf.read_metadata(path)
    size = path.stat().st_size
    return Layer(MODEL_MEDIA_TYPE, digest, size), config_from_metadata(metadata, size)


def plan_create(store: Store, name: ModelName, data: dict[str, Any]) -> CreatePlan:
    files, base_name = data.get("files"), data.get("from")
    texts = {}
    for key, media_type in (("template", TEMPLATE_MEDIA_TYPE), ("system", SYSTEM_MEDIA_TYPE)):
        if isinstance(data.get(key), str):
            texts[media_type] = data[key]
    license_text = data.get("license")
    if isinstance(license_text, list):
        license_text = "\n".join(str(item) for item in license_text)
    if isinstance(license_text, str):
        texts[LICENSE_MEDIA_TYPE] = license_text
    parameters = data.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise ApiError(400, "parameters must be an object")
    if isinstance(files, dict) and files:
        weights, config = _weights_from_files(store, files)
        return CreatePlan(name, weights, (), config, texts, parameters)
    if isinstance(base_name, str) and base_name:
        base = store.get(ModelName.parse(base_name))
        if base is None:
            raise ApiError(404, f"model '{base_name}' not found")
        weights = base.layer(MODEL_MEDIA_TYPE)
        if weights is None:
            raise ApiError(400, f"model '{base_name}' has no weights")
        base_params = ModelFacts(store, base).parameters
        merged = {**base_params, **(parameters or {})} if base_params or parameters else None
        others = tuple(layer for layer in base.layers if layer.media_type != MODEL_MEDIA_TYPE)
        config = {**base.config, "parent_model": base.name.display}
        return CreatePlan(name, weights, others, config, texts, merged)
    raise ApiError(400, "neither 'from' or 'files' was specified")


async def create(store: Store, plan: CreatePlan) -> AsyncIterator[dict[str, Any]]:
    previous = store.get(plan.name)
    yield {"status": "parsing GGUF"}
    yield {"status": f"using existing layer {plan.weights.digest}"}
    layers = [plan.weights]
    replaced = set(plan.texts) | ({PARAMS_MEDIA_TYPE} if plan.parameters is not None else set())
    for layer in plan.base_layers:
        if layer.media_type not in replaced:
            yield {"status": f"using existing layer {layer.digest}"}
            layers.append(layer)
    new_texts = dict(plan.texts)
    if plan.parameters:
        new_texts[PARAMS_MEDIA_TYPE] = json.dumps(plan.parameters)
    for media_type, text in new_texts.items():
        blob = store.write_blob_bytes(text.encode())
        yield {"status": f"creating new layer {blob.digest}"}
        layers.append(Layer(media_type, blob.digest, blob.size))
    yield {"status": "writing manifest"}
    store.write_manifest(plan.name, store.write_config(plan.config), layers)
    if previous is not None:
        store.remove_unused(previous.digests())
    yield {"status": "success"}
