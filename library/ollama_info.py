#!/usr/bin/python
# Copyright (c) 2026, Tradia
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_info

short_description: Check an Ollama API endpoint and list its models

version_added: "1.0.0"

description:
  - Reads C(GET /api/version) and C(GET /api/tags) from an Ollama server, and C(GET /api/ps)
    when O(gather_loaded=true). Works against Ollama directly or behind a reverse proxy such as
    Traefik with TLS and HTTP basic authentication.
  - Fails with a distinct message for each cause (connection refused, DNS failure, TLS
    verification error, wrong API key, a server that is not Ollama, malformed JSON, timeout),
    so a failed check says what to fix.
  - With O(required_models), fails when any of those models is missing, naming the missing
    ones. V(x) and V(x:latest) name the same model.
  - The module only reads; it never reports a change.

extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ollama_connection

attributes:
  check_mode:
    support: full
    details:
      - The module only reads, so it runs unchanged in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix

options:
  gather_loaded:
    description:
      - Also read C(GET /api/ps) and return the models currently loaded in memory in
        RV(loaded) and RV(loaded_raw).
    type: bool
    default: false
  required_models:
    description:
      - Models that must be present. The module fails, listing the missing ones, when any is
        absent.
      - A name without a tag means the V(latest) tag. A name is at most 200 ASCII letters,
        digits, C(.), C(_), C(:), C(/) and C(-), the rule the Tradia app applies too.
    type: list
    elements: str
    default: []

seealso:
  - module: ollama_model
    description: Pull, import or remove Ollama models.
  - name: Ollama API
    description: The API this module reads.
    link: https://github.com/ollama/ollama/blob/main/docs/api.md

author:
  # No GitHub handle to name: (!UNKNOWN) is the form ansible-test accepts for that.
  - Tradia maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
---
- name: Check the AI endpoint through Traefik and require the models we serve
  ollama_info:
    url: "https://ai1.example.com:11434"
    url_password: "{{ vault_ai_server_api_key }}"
    ca_path: /etc/tradia/ai-ca.pem
    required_models:
      - llama3.1:8b
      - qwen2.5vl:7b
  delegate_to: localhost
  register: ai_server_ollama

- name: Show the version and the models
  ansible.builtin.debug:
    msg: "Ollama {{ ai_server_ollama.version }}: {{ ai_server_ollama.models | join(', ') }}"

- name: List the loaded models of a local Ollama (no proxy, no auth)
  ollama_info:
    url: http://127.0.0.1:11434
    gather_loaded: true
  register: ai_server_loaded
"""

RETURN = r"""
version:
  description: The Ollama version from C(GET /api/version).
  returned: success
  type: str
  sample: 0.12.6
models:
  description: Names of the installed models, as C(GET /api/tags) lists them.
  returned: success
  type: list
  elements: str
  sample: [llama3.1:8b, smollm2:135m]
models_raw:
  description: The entries of C(GET /api/tags) unchanged (name, model, size, digest, details, ...).
  returned: success
  type: list
  elements: dict
  sample:
    - name: smollm2:135m
      model: smollm2:135m
      size: 98000000
      digest: 9077...c6f0
      modified_at: "2026-11-26T16:00:00.000000000Z"
      details: {format: gguf, family: llama, parameter_size: 135M, quantization_level: Q4_1}
missing:
  description: Models of O(required_models) that are absent (also returned on that failure).
  returned: always
  type: list
  elements: str
  sample: []
loaded:
  description: Names of the models loaded in memory, from C(GET /api/ps).
  returned: when O(gather_loaded=true)
  type: list
  elements: str
  sample: [smollm2:135m]
loaded_raw:
  description: The entries of C(GET /api/ps) unchanged (size_vram, expires_at, context_length, ...).
  returned: when O(gather_loaded=true)
  type: list
  elements: dict
  sample: []
error_kind:
  description:
    - On failure, the cause as a keyword, for C(failed_when) / C(rescue) logic.
    - One of V(connection_refused), V(dns), V(tls), V(tls_handshake), V(timeout), V(auth),
      V(not_ollama), V(malformed_json), V(redirect), V(missing_models), V(config) and a few
      generic ones (V(http), V(server_error), V(connection)).
  returned: failure
  type: str
  sample: auth
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.ollama_client import client_from_module, connection_argument_spec
from ansible.module_utils.ollama_errors import OllamaError
from ansible.module_utils.ollama_names import (
    MODEL_NAME_RULE,
    is_valid_model_name,
    normalize_model_name,
)


def run(module: AnsibleModule) -> dict[str, Any]:
    params = module.params
    client = client_from_module(module)
    models_raw = client.tags()
    result: dict[str, Any] = {
        "changed": False,
        "version": client.version(),
        "models_raw": models_raw,
        "models": [str(m.get("name") or m.get("model")) for m in models_raw],
    }
    if params["gather_loaded"]:
        loaded_raw = client.ps()
        result["loaded_raw"] = loaded_raw
        result["loaded"] = [str(m.get("name") or m.get("model")) for m in loaded_raw]
    present = {normalize_model_name(name) for name in result["models"]}
    result["missing"] = [
        name for name in params["required_models"] if normalize_model_name(name) not in present
    ]
    return result


def main() -> None:
    argument_spec = connection_argument_spec(timeout=30)
    argument_spec.update(
        gather_loaded={"type": "bool", "default": False},
        required_models={"type": "list", "elements": "str", "default": []},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    invalid = [n for n in module.params["required_models"] if not is_valid_model_name(n.strip())]
    if invalid:
        module.fail_json(
            msg=f"invalid model name(s) in required_models: {', '.join(map(repr, invalid))}:"
            f" {MODEL_NAME_RULE}",
            error_kind="config",
        )
    try:
        result = run(module)
    except OllamaError as exc:
        module.fail_json(changed=False, **exc.as_result())
    if result["missing"]:
        module.fail_json(
            msg=(
                f"required models missing on {module.params['url']}:"
                f" {', '.join(result['missing'])}"
                f" (present: {', '.join(result['models']) or 'none'})"
            ),
            error_kind="missing_models",
            **{k: v for k, v in result.items() if k != "msg"},
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
