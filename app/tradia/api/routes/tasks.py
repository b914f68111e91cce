"""The text tasks, each answering with an NDJSON event stream (see api/streaming.py)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from tradia.api.deps import StateDep, UserDep
from tradia.api.errors import RequestRejected, check_limit, error_responses
from tradia.api.events import (
    CorrectionEvent,
    DetectedEvent,
    Event,
    MinutesEvent,
    ReformulationEvent,
    TranslationEvent,
    TranslationResult,
)
from tradia.api.streaming import NDJSON, NDJSONResponse, done_event, ndjson_response, require_text
from tradia.core.model_names import MODEL_NAME_PATTERN
from tradia.generation import Generation
from tradia.glossary import glossary_report
from tradia.state import AppState
from tradia.tasks.correction import build_correction_request, correction_result
from tradia.tasks.formality import ADDRESS, Formality, has_formality
from tradia.tasks.language_detection import detect_language
from tradia.tasks.minutes import build_minutes_request, minutes_result
from tradia.tasks.reformulation import (
    TONES_BY_ID,
    build_reformulation_request,
    reformulation_result,
)
from tradia.tasks.translation import build_translation_request
from tradia.upstream.errors import ErrorKind, UpstreamError
from tradia.upstream.ollama_client import ChatRequest

router = APIRouter(prefix="/api", tags=["tasks"])


def stream_doc(events: Any, *statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI of a streaming route: 200 is NDJSON, each line one of `events` (a union of
    models from api/events.py), then the refusals before the stream."""
    return {
        # FastAPI writes the model's schema under application/json; document_streams() moves
        # it to the empty application/x-ndjson entry.
        200: {
            "model": events,
            "description": "NDJSON: one event a line, the last one `done` or `error`",
            "content": {NDJSON: {}},
        },
        **error_responses(400, 413, 422, *statuses),
    }


ModelName = Annotated[str | None, Field(None, pattern=MODEL_NAME_PATTERN)]
UiLanguage = Literal["fr", "en"]


class TranslateIn(BaseModel):
    text: str = Field(min_length=1)
    source: str = "auto"
    target: str
    model: ModelName = None
    # Formal or informal address: only for targets in tasks/formality.py (else 422).
    formality: Formality = "default"


class CorrectIn(BaseModel):
    text: str = Field(min_length=1)
    model: ModelName = None
    ui_language: UiLanguage = "fr"


class ReformulateIn(BaseModel):
    text: str = Field(min_length=1)
    tone: str = "professional"
    model: ModelName = None
    ui_language: UiLanguage = "fr"


def check_text(state: AppState, text: str) -> None:
    limit = state.settings.max_chars
    check_limit(
        len(text),
        limit,
        "text_too_long",
        f"The text has {len(text)} characters; the limit is {limit}. Split it or use the"
        " Documents tab.",
    )
    if not text.strip():
        raise RequestRejected(422, "text_empty", "The text is empty.")


def check_language(state: AppState, code: str) -> None:
    if code not in state.settings.languages:
        raise RequestRejected(
            422,
            "language_unsupported",
            f"Unsupported language '{code}'; available: {', '.join(state.settings.languages)}.",
        )


def check_formality(target: str, formality: Formality) -> None:
    if formality != "default" and not has_formality(target):
        raise RequestRejected(
            422,
            "formality_unsupported",
            f"A {formality} translation cannot be asked for '{target}', which makes no such"
            f" difference; only for: {', '.join(ADDRESS)}. Leave formality at 'default'.",
        )


def choose_model(state: AppState, model: str | None) -> str:
    """The model a request names, or the default; only those the deployment offers."""
    chosen = model or state.settings.ollama_model
    if not state.settings.model_allowed(chosen):
        raise RequestRejected(
            422,
            "model_not_allowed",
            f"The model '{chosen}' is not offered here; available:"
            f" {', '.join(state.settings.models)}.",
        )
    return chosen


async def generate(
    state: AppState,
    user: str,
    task: str,
    request: ChatRequest,
    result: Callable[[Generation], Event],
) -> AsyncIterator[Event]:
    """One generation's progress, then its result and `done`."""
    generation = state.llm.generation(task, user, request)
    async for event in generation.progress():
        yield event
    yield result(generation.result)
    yield done_event(generation.result)


@router.post("/translate", responses=stream_doc(TranslationEvent), response_class=StreamingResponse)
async def translate(body: TranslateIn, state: StateDep, user: UserDep) -> NDJSONResponse:
    check_text(state, body.text)
    check_language(state, body.target)
    if body.source != "auto":
        check_language(state, body.source)
    check_formality(body.target, body.formality)
    model = choose_model(state, body.model)
    # This request's terminology, whatever reloads happen while it streams.
    glossary = state.glossary.current

    async def events() -> AsyncIterator[Event]:
        source: str | None = None if body.source == "auto" else body.source
        if source is None:
            source = detect_language(body.text, state.settings.languages)
            yield DetectedEvent(language=source)
        entries = glossary.matching(body.text, source, body.target)
        keep = glossary.protected(body.text)
        request = build_translation_request(
            model, body.text, source, body.target, entries, keep=keep, formality=body.formality
        )

        def result(generation: Generation) -> TranslationResult:
            require_text(generation)
            return TranslationResult(
                text=generation.text, glossary=glossary_report(entries, generation.text, keep)
            )

        async for event in generate(state, user, "translation", request, result):
            yield event

    return ndjson_response(events(), "translation")


@router.post("/correct", responses=stream_doc(CorrectionEvent), response_class=StreamingResponse)
async def correct(body: CorrectIn, state: StateDep, user: UserDep) -> NDJSONResponse:
    check_text(state, body.text)
    request = build_correction_request(choose_model(state, body.model), body.text, body.ui_language)
    return ndjson_response(
        generate(
            state,
            user,
            "correction",
            request,
            lambda g: correction_result(body.text, g.text, g.truncated),
        ),
        "correction",
    )


@router.post(
    "/reformulate", responses=stream_doc(ReformulationEvent), response_class=StreamingResponse
)
async def reformulate(body: ReformulateIn, state: StateDep, user: UserDep) -> NDJSONResponse:
    check_text(state, body.text)
    tone = TONES_BY_ID.get(body.tone)
    if tone is None:
        raise RequestRejected(
            422, "tone_unknown", f"Unknown tone; available: {', '.join(TONES_BY_ID)}."
        )
    request = build_reformulation_request(
        choose_model(state, body.model), body.text, tone, body.ui_language
    )
    return ndjson_response(
        generate(
            state,
            user,
            "reformulation",
            request,
            lambda g: reformulation_result(body.text, g.text, g.truncated),
        ),
        "reformulation",
    )


# What a photo's first bytes must be, whatever its name or declared type says.
_IMAGE_SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
}


def _is_image(content_type: str | None, data: bytes) -> bool:
    signatures = _IMAGE_SIGNATURES.get(content_type or "")
    if signatures is None or not data.startswith(signatures):
        return False
    return content_type != "image/webp" or data[8:12] == b"WEBP"


@router.post(
    "/minutes",
    # 502-504: the AI server cannot say whether the chosen model reads images.
    responses=stream_doc(MinutesEvent, 415, 502, 503, 504),
    response_class=StreamingResponse,
)
async def minutes(
    state: StateDep,
    user: UserDep,
    notes: Annotated[str, Form()] = "",
    language: Annotated[UiLanguage, Form()] = "fr",
    model: Annotated[str | None, Form(pattern=MODEL_NAME_PATTERN)] = None,
    photo: Annotated[UploadFile | None, File()] = None,
) -> NDJSONResponse:
    chosen = choose_model(state, model)
    images: list[str] = []
    if photo is not None and photo.filename:
        data = await photo.read(state.settings.max_image_bytes + 1)
        check_limit(
            len(data),
            state.settings.max_image_bytes,
            "image_too_large",
            f"The photo is larger than {state.settings.max_image_bytes // 1048576} MiB.",
        )
        if not _is_image(photo.content_type, data):
            raise RequestRejected(415, "image_type", "The photo must be a JPEG, PNG or WebP image.")
        try:
            details = await state.client.show(chosen)
        except UpstreamError as exc:
            if exc.kind is not ErrorKind.MODEL_MISSING:
                raise
            # The user's choice, not the server's fault: a refusal, not a 502.
            raise RequestRejected(422, exc.kind.value, exc.message) from exc
        if "vision" not in details.capabilities:
            raise RequestRejected(
                422,
                "vision_unsupported",
                f"The model '{chosen}' cannot read images: choose a model with vision.",
            )
        images.append(base64.b64encode(data).decode("ascii"))
    if notes:
        check_text(state, notes)
    elif not images:
        raise RequestRejected(422, "minutes_empty", "Give the meeting notes, a photo, or both.")

    def result(generation: Generation) -> Event:
        if not generation.text.strip():
            raise UpstreamError(ErrorKind.GENERATION_FAILED, "The AI server returned nothing.")
        return minutes_result(generation.text, generation.truncated, language)

    request = build_minutes_request(chosen, notes, images, language)
    return ndjson_response(generate(state, user, "minutes", request, result), "minutes")
