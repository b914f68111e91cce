# Copyright (c) 2026, Tradia
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a model name is, for the Tradia app and the Ansible modules alike.

The one definition: module_utils/ollama_names.py is a symbolic link to this file (the app's
image is built from app/ alone, Ansible ships module_utils to the targets; both read the file
the link points to). So it must stay importable outside the app package: standard library
only, on purpose.
"""

from __future__ import annotations

import re

# ASCII letters, digits and . _ : / - (registry host and port, namespace, name, tag), at most 200.
MODEL_NAME_PATTERN = r"^[A-Za-z0-9._:/-]{1,200}$"
MODEL_NAME_RULE = "1 to 200 ASCII letters, digits and . _ : / - (namespace/name:tag)"
_MODEL_NAME = re.compile(MODEL_NAME_PATTERN)


def is_valid_model_name(name: str) -> bool:
    """Whether ``name`` is a model name both the modules and the app accept."""
    # fullmatch: with match, `$` would also accept a trailing newline
    return bool(_MODEL_NAME.fullmatch(name))


def normalize_model_name(name: str) -> str:
    """``x`` and ``x:latest`` are the same model; ``host:5000/ns/x`` has no tag either."""
    name = name.strip()
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name
