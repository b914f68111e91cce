"""The small vocabulary every upstream failure is mapped to.

The browser, the logs and /metrics all use these kinds; each carries a message that tells the
user (or the operator) what to do about it.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    LLM_UNREACHABLE = "llm_unreachable"
    LLM_AUTH_FAILED = "llm_auth_failed"
    MODEL_MISSING = "model_missing"
    LLM_BUSY = "llm_busy"
    LLM_TIMEOUT = "llm_timeout"
    GENERATION_FAILED = "generation_failed"


# HTTP status Tradia answers with when the failure happens before a stream has started.
HTTP_STATUS = {
    ErrorKind.LLM_UNREACHABLE: 502,
    ErrorKind.LLM_AUTH_FAILED: 502,
    ErrorKind.MODEL_MISSING: 502,
    ErrorKind.LLM_BUSY: 503,
    ErrorKind.LLM_TIMEOUT: 504,
    ErrorKind.GENERATION_FAILED: 502,
}

DEFAULT_MESSAGES = {
    ErrorKind.LLM_UNREACHABLE: (
        "The AI server cannot be reached. Check that it is running and that OLLAMA_BASE_URL is"
        " right; try again in a moment."
    ),
    ErrorKind.LLM_AUTH_FAILED: (
        "The AI server refused the API key. The administrator must check OLLAMA_API_KEY against"
        " the AI server's basic-auth user 'api'."
    ),
    ErrorKind.MODEL_MISSING: (
        "The model is not installed on the AI server. Choose another model or ask the"
        " administrator to pull it."
    ),
    ErrorKind.LLM_BUSY: "The AI server is saturated. Try again in a minute.",
    ErrorKind.LLM_TIMEOUT: (
        "The AI server did not answer in time. Try a shorter text or try again later."
    ),
    ErrorKind.GENERATION_FAILED: (
        "The generation failed on the AI server before it completed. The partial result was"
        " discarded; try again."
    ),
}


class UpstreamError(Exception):
    """A failure talking to the AI server, already classified."""

    def __init__(self, kind: ErrorKind, message: str | None = None) -> None:
        self.kind = kind
        self.message = message or DEFAULT_MESSAGES[kind]
        super().__init__(f"{kind}: {self.message}")

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.kind]

    def to_dict(self) -> dict[str, str]:
        return {"error": self.kind.value, "message": self.message}
