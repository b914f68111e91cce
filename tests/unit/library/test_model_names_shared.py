"""One model-name rule for the Ansible modules and the Tradia app.

module_utils/ollama_names.py is a symbolic link to app/tradia/core/model_names.py (the app's
image is built from app/ alone); these tests keep it one file and the app on its rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.module_utils import ollama_names
from tradia.core import config, model_names
from tradia.main import create_app

REPO = Path(__file__).resolve().parents[3]
SOURCE = REPO / "module_utils" / "ollama_names.py"
APP_COPY = REPO / "app" / "tradia" / "core" / "model_names.py"


def test_the_modules_rule_is_the_apps_file():
    assert SOURCE.is_symlink(), f"{SOURCE.relative_to(REPO)} must link to {APP_COPY.name}"
    assert SOURCE.resolve() == APP_COPY.resolve()
    assert model_names.MODEL_NAME_PATTERN == ollama_names.MODEL_NAME_PATTERN


def test_the_app_normalises_names_with_the_shared_function():
    assert config.normalise_model_name is model_names.normalize_model_name


def _model_patterns(node: Any, found: list[str]) -> list[str]:
    """Every ``pattern`` of a property named ``model`` in an OpenAPI document."""
    if isinstance(node, dict):
        model = node.get("properties", {}).get("model")
        if isinstance(model, dict):
            found.extend(
                option["pattern"]
                for option in [model, *model.get("anyOf", [])]
                if isinstance(option, dict) and "pattern" in option
            )
        for value in node.values():
            _model_patterns(value, found)
    elif isinstance(node, list):
        for value in node:
            _model_patterns(value, found)
    return found


def test_every_model_field_of_the_api_applies_the_rule():
    """The request bodies that name a model (translate, correct, minutes, documents...)."""
    settings = config.Settings(ollama_api_key="k" * 40)  # type: ignore[call-arg]
    patterns = _model_patterns(create_app(settings).openapi(), [])
    assert patterns, "no request body names a model: is the walk still right?"
    assert set(patterns) == {model_names.MODEL_NAME_PATTERN}
