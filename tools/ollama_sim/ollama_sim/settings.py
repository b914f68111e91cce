"""Server settings from the command line and the environment (Ollama's variable names)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ollama_sim.catalog import default_catalog_dir
from ollama_sim.durations import InvalidDuration, keep_alive_ns
from ollama_sim.faults import Fault, FaultError, fault_from_env
from ollama_sim.profiles import PROFILES, Profile

BACKENDS = ("scripted", "llama")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 11434


class SettingsError(ValueError):
    """A bad setting; the message names it and what is accepted."""


@dataclass(frozen=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    backend: str = "scripted"
    profile: Profile = PROFILES["instant"]
    models_dir: Path = field(default_factory=lambda: Path.home() / ".ollama" / "models")
    catalog_dir: Path = field(default_factory=default_catalog_dir)
    preload: tuple[str, ...] = ()
    num_parallel: int = 1
    max_queue: int = 512
    keep_alive_ns: int = 5 * 60 * 1_000_000_000
    context_length: int = 4096
    fault: Fault | None = None
    llama_threads: int = 2


def parse_host(value: str) -> tuple[str, int]:
    """OLLAMA_HOST: `host`, `host:port`, `:port` or `http://host:port`."""
    text = value.strip()
    if "://" not in text:
        text = f"http://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise SettingsError(f"OLLAMA_HOST: not host[:port]: {value!r}") from None
    return parts.hostname or DEFAULT_HOST, port or DEFAULT_PORT


def _positive_int(name: str, raw: str, minimum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected an integer >= {minimum}, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name}: expected an integer >= {minimum}, got {raw!r}")
    return value


def _choice(name: str, raw: str, valid: tuple[str, ...]) -> str:
    if raw not in valid:
        raise SettingsError(f"{name}: unknown value {raw!r}; valid: {', '.join(valid)}")
    return raw


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, str | None] | None = None
) -> Settings:
    """Environment first, then command-line `overrides` (same keys as the variables)."""
    values = dict(os.environ if environ is None else environ)
    values.update({key: value for key, value in (overrides or {}).items() if value is not None})
    host, port = parse_host(values.get("OLLAMA_HOST", f"{DEFAULT_HOST}:{DEFAULT_PORT}"))
    try:
        raw_keep_alive = values.get("OLLAMA_KEEP_ALIVE", "5m").strip()
        # Like Ollama's envconfig: a duration, or else a whole number of seconds.
        keep_alive = keep_alive_ns(
            int(raw_keep_alive) if raw_keep_alive.lstrip("-").isdigit() else raw_keep_alive
        )
    except InvalidDuration as error:
        raise SettingsError(f"OLLAMA_KEEP_ALIVE: {error}") from None
    try:
        fault = fault_from_env(values)
    except FaultError as error:
        raise SettingsError(str(error)) from None
    defaults = Settings()
    preload = values.get("OLLAMA_SIM_PRELOAD", "")
    return Settings(
        host=host,
        port=port,
        backend=_choice(
            "OLLAMA_SIM_BACKEND", values.get("OLLAMA_SIM_BACKEND", "scripted"), BACKENDS
        ),
        profile=PROFILES[
            _choice(
                "OLLAMA_SIM_PROFILE", values.get("OLLAMA_SIM_PROFILE", "instant"), tuple(PROFILES)
            )
        ],
        models_dir=Path(values["OLLAMA_MODELS"])
        if values.get("OLLAMA_MODELS")
        else defaults.models_dir,
        catalog_dir=Path(values["OLLAMA_SIM_CATALOG"])
        if values.get("OLLAMA_SIM_CATALOG")
        else defaults.catalog_dir,
        preload=tuple(name.strip() for name in preload.split(",") if name.strip()),
        num_parallel=_positive_int(
            "OLLAMA_NUM_PARALLEL", values.get("OLLAMA_NUM_PARALLEL", "1"), 1
        ),
        max_queue=_positive_int("OLLAMA_MAX_QUEUE", values.get("OLLAMA_MAX_QUEUE", "512"), 0),
        keep_alive_ns=keep_alive,
        # 0 means "by VRAM" in Ollama: under 23 GiB, i.e. on the cards we emulate, 4096.
        context_length=_positive_int(
            "OLLAMA_CONTEXT_LENGTH", values.get("OLLAMA_CONTEXT_LENGTH", "0") or "0", 0
        )
        or 4096,
        fault=fault,
        llama_threads=_positive_int(
            "OLLAMA_SIM_LLAMA_THREADS", values.get("OLLAMA_SIM_LLAMA_THREADS", "2"), 1
        ),
    )
