"""What the UI needs to know: it hard-codes no language, limit, model or tone."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from tradia.api.deps import StateDep
from tradia.documents.formats import SUPPORTED_EXTENSIONS
from tradia.tasks.formality import has_formality
from tradia.tasks.reformulation import TONES
from tradia.upstream.errors import UpstreamError
from tradia.upstream.ollama_client import ModelDetails, normalise_model_name

router = APIRouter(prefix="/api", tags=["settings"])

LANGUAGE_LABELS = {
    "fr": {"fr": "Français", "en": "French"},
    "en": {"fr": "Anglais", "en": "English"},
    "ar": {"fr": "Arabe", "en": "Arabic"},
    "es": {"fr": "Espagnol", "en": "Spanish"},
    "de": {"fr": "Allemand", "en": "German"},
    "it": {"fr": "Italien", "en": "Italian"},
    "pt": {"fr": "Portugais", "en": "Portuguese"},
    "nl": {"fr": "Néerlandais", "en": "Dutch"},
}
RTL_LANGUAGES = frozenset({"ar"})


@router.get("/settings")
async def settings(state: StateDep) -> dict[str, Any]:
    config = state.settings
    terminology = state.glossary.current
    models: list[dict[str, Any]] = []
    upstream_error: dict[str, str] | None = None
    try:
        # Only the models this deployment offers (TRADIA_MODELS), from the shared list.
        listed = [m for m in await state.client.shared_models() if config.model_allowed(m.name)]
        details = await asyncio.gather(
            *(state.client.show(m.name) for m in listed), return_exceptions=True
        )
        default = normalise_model_name(config.ollama_model)
        for model, detail in zip(listed, details, strict=True):
            capabilities = detail.capabilities if isinstance(detail, ModelDetails) else ()
            models.append(
                {
                    "name": model.name,
                    "parameter_size": model.parameter_size,
                    "default": normalise_model_name(model.name) == default,
                    "vision": "vision" in capabilities,
                }
            )
    except UpstreamError as exc:
        upstream_error = exc.to_dict()
    return {
        "ui_languages": ["fr", "en"],
        "languages": [
            {"code": code, "labels": LANGUAGE_LABELS[code], "rtl": code in RTL_LANGUAGES}
            for code in config.languages
        ],
        "default_model": config.ollama_model,
        "models": models,
        "upstream_error": upstream_error,
        "tones": [{"id": t.id, "labels": t.labels} for t in TONES],
        # The targets where formal or informal address can be asked for.
        "formality_languages": [code for code in config.languages if has_formality(code)],
        "limits": {
            "max_chars": config.max_chars,
            "max_file_bytes": config.max_file_bytes,
            "max_files": config.max_files,
            "max_image_bytes": config.max_image_bytes,
        },
        "features": {
            "minutes_photo": any(m["vision"] for m in models),
            "document_extensions": list(SUPPORTED_EXTENSIONS),
            "glossary": terminology.pairs(),
            "do_not_translate": len(terminology.do_not_translate),
        },
        "queue": {"capacity": state.queue.capacity},
    }
