"""Model names: `[host/][namespace/]model[:tag]`, normalised like Ollama's."""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


class InvalidModelName(ValueError):
    """The text is not a model name Ollama would accept."""


@dataclass(frozen=True)
class ModelName:
    host: str
    namespace: str
    model: str
    tag: str

    @classmethod
    def parse(cls, text: str) -> "ModelName":
        raw = text.strip()
        model_path, _, tag = raw.rpartition(":") if ":" in raw.rsplit("/", 1)[-1] else (raw, "", "")
        parts = model_path.split("/") if model_path else []
        if not parts or len(parts) > 3:
            raise InvalidModelName(text)
        host = parts[-3] if len(parts) == 3 else DEFAULT_HOST
        namespace = parts[-2] if len(parts) >= 2 else DEFAULT_NAMESPACE
        name = cls(host, namespace, parts[-1], tag or DEFAULT_TAG)
        for part in (name.namespace, name.model, name.tag):
            if not _PART.match(part):
                raise InvalidModelName(text)
        return name

    @property
    def display(self) -> str:
        """The short form Ollama lists: `smollm2:135m`, `me/writer:latest`."""
        prefix = ""
        if self.host != DEFAULT_HOST:
            prefix = f"{self.host}/{self.namespace}/"
        elif self.namespace != DEFAULT_NAMESPACE:
            prefix = f"{self.namespace}/"
        return f"{prefix}{self.model}:{self.tag}"

    @property
    def manifest_path(self) -> PurePosixPath:
        return PurePosixPath(self.host, self.namespace, self.model, self.tag)
