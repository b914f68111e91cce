"""Settings, read once at start-up from the environment (and optional secret files).

Names follow the deployment guide (OLLAMA_BASE_URL, OLLAMA_API_KEY, OLLAMA_MODEL, OLLAMA_TIMEOUT)
so an existing `.env` keeps working; everything Tradia-specific is prefixed TRADIA_.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Self

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tradia.auth.settings import AuthSettings

# The model-name rule of the Ansible modules too (model_names.py says how the copies stay one).
from tradia.core.model_names import normalize_model_name as normalise_model_name

# Placeholders seen in guides and templates: starting with one of them is a deployment mistake.
_PLACEHOLDER_KEYS = frozenset({"changethis", "changeme", "ma-super-cle-secrete", "secret"})

LANGUAGE_NAMES = {
    "fr": "French",
    "en": "English",
    "ar": "Arabic",
    "es": "Spanish",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    # --- upstream (the AI server) -------------------------------------------------------------
    ollama_base_url: str = Field(
        "http://127.0.0.1:11434", validation_alias=_env("OLLAMA_BASE_URL", "ollama_base_url")
    )
    ollama_api_user: str = Field("api", validation_alias=_env("OLLAMA_API_USER", "ollama_api_user"))
    ollama_api_key: SecretStr | None = Field(
        None, validation_alias=_env("OLLAMA_API_KEY", "ollama_api_key")
    )
    ollama_api_key_file: Path | None = Field(
        None, validation_alias=_env("OLLAMA_API_KEY_FILE", "ollama_api_key_file")
    )
    ollama_ca_file: Path | None = Field(
        None, validation_alias=_env("OLLAMA_CA_FILE", "ollama_ca_file")
    )
    ollama_model: str = Field("llama3.1:8b", validation_alias=_env("OLLAMA_MODEL", "ollama_model"))
    # Read timeout between two upstream bytes: covers queueing on the GPU server and prefill.
    ollama_timeout: float = Field(
        120.0, gt=0, validation_alias=_env("OLLAMA_TIMEOUT", "ollama_timeout")
    )
    ollama_connect_timeout: float = Field(
        5.0, gt=0, validation_alias=_env("OLLAMA_CONNECT_TIMEOUT", "ollama_connect_timeout")
    )
    # One fixed context for every request: a different num_ctx reloads the model.
    ollama_num_ctx: int = Field(
        8192, ge=512, validation_alias=_env("OLLAMA_NUM_CTX", "ollama_num_ctx")
    )
    ollama_keep_alive: str = Field(
        "30m", validation_alias=_env("OLLAMA_KEEP_ALIVE", "ollama_keep_alive")
    )

    # --- capacity ---
    # Generations running at once: match OLLAMA_NUM_PARALLEL x number of AI servers.
    concurrency: int = Field(2, ge=1, validation_alias=_env("TRADIA_CONCURRENCY", "concurrency"))
    max_waiting: int = Field(50, ge=0, validation_alias=_env("TRADIA_MAX_WAITING", "max_waiting"))
    # Whole-generation ceiling, on top of the per-read timeout.
    generation_timeout: float = Field(
        600.0, gt=0, validation_alias=_env("TRADIA_GENERATION_TIMEOUT", "generation_timeout")
    )

    # --- limits ---
    # With num_ctx 8192: ~2,700 tokens in and as many out, plus the instructions.
    max_chars: int = Field(8000, ge=100, validation_alias=_env("TRADIA_MAX_CHARS", "max_chars"))
    # Ceiling on any answer (Ollama's num_predict). Text tasks get less: three times their input
    # (estimated at 3 characters per token) plus 256 tokens, so a model that loops stops early
    # instead of holding a GPU slot until the context is full while colleagues queue.
    max_output_tokens: int = Field(
        3072, ge=64, validation_alias=_env("TRADIA_MAX_OUTPUT_TOKENS", "max_output_tokens")
    )
    max_file_bytes: int = Field(
        5 * 1024 * 1024, ge=1024, validation_alias=_env("TRADIA_MAX_FILE_BYTES", "max_file_bytes")
    )
    max_files: int = Field(10, ge=1, validation_alias=_env("TRADIA_MAX_FILES", "max_files"))
    max_image_bytes: int = Field(
        8 * 1024 * 1024,
        ge=1024,
        validation_alias=_env("TRADIA_MAX_IMAGE_BYTES", "max_image_bytes"),
    )
    # What documents may expand to once unpacked (a .docx is a ZIP: its members' sizes, read
    # from the archive's directory before anything is inflated): per file and per request.
    # Parsed XML takes several times its size in memory, so these bound the app's memory.
    max_document_expanded_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024,
        validation_alias=_env("TRADIA_MAX_DOCUMENT_EXPANDED_BYTES", "max_document_expanded_bytes"),
    )
    max_request_expanded_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        validation_alias=_env("TRADIA_MAX_REQUEST_EXPANDED_BYTES", "max_request_expanded_bytes"),
    )
    # Documents parsed at once, all requests together: each parse holds a document's tree.
    parse_concurrency: int = Field(
        2, ge=1, validation_alias=_env("TRADIA_PARSE_CONCURRENCY", "parse_concurrency")
    )

    # --- document jobs ---
    # Where jobs live (inputs, checkpoints, results): must survive a restart of the app.
    jobs_dir: Path = Field(
        Path("/var/lib/tradia/jobs"), validation_alias=_env("TRADIA_JOBS_DIR", "jobs_dir")
    )
    # Jobs translating at once; None: TRADIA_CONCURRENCY. Each segment still queues on its own.
    job_concurrency: int | None = Field(
        None, ge=1, validation_alias=_env("TRADIA_JOB_CONCURRENCY", "job_concurrency")
    )
    # How long a finished job and its result are kept for their owner.
    job_retention_hours: float = Field(
        24.0, gt=0, validation_alias=_env("TRADIA_JOB_RETENTION_HOURS", "job_retention_hours")
    )
    # Unfinished jobs per user.
    max_jobs_per_user: int = Field(
        5, ge=1, validation_alias=_env("TRADIA_MAX_JOBS_PER_USER", "max_jobs_per_user")
    )

    # --- features ---
    languages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["fr", "en", "ar", "es", "de", "it"],
        validation_alias=_env("TRADIA_LANGUAGES", "languages"),
    )
    # The models users may choose (the default one included); empty: any the AI server has.
    models: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("TRADIA_MODELS", "models")
    )
    glossary_file: Path | None = Field(
        None, validation_alias=_env("TRADIA_GLOSSARY_FILE", "glossary_file")
    )
    # Header set by the reverse proxy with the authenticated user (Traefik basicAuth headerField,
    # an SSO forward-auth header). Only used to count usage per user.
    user_header: str = Field(
        "X-Forwarded-User", validation_alias=_env("TRADIA_USER_HEADER", "user_header")
    )
    # Sign-in (TRADIA_AUTH and each mode's settings: tradia/auth/settings.py).
    auth: AuthSettings = Field(
        default_factory=AuthSettings,  # type: ignore[arg-type]
        validation_alias=_env("TRADIA_AUTH_SETTINGS", "auth"),
    )
    docs_enabled: bool = Field(True, validation_alias=_env("TRADIA_DOCS_ENABLED", "docs_enabled"))
    # /readyz and /api/settings share one model list from the AI server, fetched at most once
    # per this many seconds whoever asks: open tabs polling cannot load the AI server.
    upstream_cache_seconds: float = Field(
        5.0, ge=0, validation_alias=_env("TRADIA_UPSTREAM_CACHE_SECONDS", "upstream_cache_seconds")
    )

    # --- serving ---
    host: str = Field("0.0.0.0", validation_alias=_env("TRADIA_HOST", "host"))  # noqa: S104
    port: int = Field(8000, validation_alias=_env("TRADIA_PORT", "port"))
    # Proxy headers (X-Forwarded-*) are trusted only from these addresses/networks.
    forwarded_allow_ips: str = Field(
        "127.0.0.1", validation_alias=_env("TRADIA_FORWARDED_ALLOW_IPS", "forwarded_allow_ips")
    )
    log_level: str = Field("INFO", validation_alias=_env("TRADIA_LOG_LEVEL", "log_level"))

    @model_validator(mode="before")
    @classmethod
    def _split_lists(cls, data: object) -> object:
        if isinstance(data, dict):
            for key in ("TRADIA_LANGUAGES", "languages", "TRADIA_MODELS", "models"):
                if key in data:
                    data[key] = _split_csv(data[key])
        return data

    @field_validator("glossary_file", mode="before")
    @classmethod
    def _empty_means_none(cls, value: object) -> object:
        # The role says "no terminology" with TRADIA_GLOSSARY_FILE="" (not Path("."): a folder).
        return None if value == "" else value

    @model_validator(mode="after")
    def _check(self) -> Self:
        key = self.api_key  # reads the file: fails early when it is unreadable
        if not key:
            raise ValueError(
                "no API key: set OLLAMA_API_KEY or OLLAMA_API_KEY_FILE (the AI server's basic-auth"
                " password for user 'api')"
            )
        if key.lower() in _PLACEHOLDER_KEYS:
            raise ValueError("OLLAMA_API_KEY is a placeholder from the guide: use a real secret")
        if not self.ollama_base_url.startswith(("http://", "https://")):
            raise ValueError("OLLAMA_BASE_URL must start with http:// or https://")
        unknown = [code for code in self.languages if code not in LANGUAGE_NAMES]
        if unknown or not self.languages:
            raise ValueError(
                f"TRADIA_LANGUAGES: unknown codes {unknown}; known: {sorted(LANGUAGE_NAMES)}"
            )
        if self.models and normalise_model_name(self.ollama_model) not in self.allowed_models:
            raise ValueError(
                f"OLLAMA_MODEL {self.ollama_model} is not in TRADIA_MODELS"
                f" ({', '.join(self.models)})"
            )
        if self.ollama_ca_file is not None and not self.ollama_ca_file.is_file():
            raise ValueError(f"OLLAMA_CA_FILE {self.ollama_ca_file} is not a readable file")
        return self

    @cached_property
    def allowed_models(self) -> frozenset[str]:
        """The models users may name (normalised); empty: no restriction."""
        return frozenset(normalise_model_name(name) for name in self.models)

    def model_allowed(self, name: str) -> bool:
        return not self.models or normalise_model_name(name) in self.allowed_models

    @cached_property
    def api_key(self) -> str:
        if self.ollama_api_key_file is not None:
            try:
                return self.ollama_api_key_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(f"OLLAMA_API_KEY_FILE unreadable: {exc.strerror}") from exc
        if self.ollama_api_key is not None:
            return self.ollama_api_key.get_secret_value().strip()
        return ""
