#!/usr/bin/python
# Copyright (c) 2026, Tradia
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_model

short_description: Pull, import or remove a model on an Ollama server

version_added: "1.0.0"

description:
  - Makes sure a model is present on, or absent from, an Ollama server, directly or behind a
    reverse proxy such as Traefik with TLS and HTTP basic authentication.
  - With O(source=pull) the model is pulled from the Ollama registry (C(POST /api/pull)). It
    counts as present when C(GET /api/tags) lists it; O(force_pull=true) pulls it again and
    reports a change only when its digest changed. An interrupted pull is retried
    (O(retries), O(delay)); Ollama resumes the layers it already has.
  - With O(source=file) the model is created from a GGUF file that is already on the B(target)
    host (O(path)). The file is uploaded as a blob (C(HEAD)/C(POST /api/blobs/sha256:<digest>),
    skipped when the server already has it, streamed from disk) and the model is created with
    C(POST /api/create). The model is up to date when C(POST /api/show) shows that it was made
    from a blob with the file's sha256 and, for each of O(template), O(system) and
    O(parameters) that is set, the same value.
  - "The streamed progress (NDJSON) is parsed; a final C({\"error\": ...}) line fails the task
    even though the HTTP status was 200."

extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ollama_connection

attributes:
  check_mode:
    support: partial
    details:
      - Nothing is pulled, uploaded, created or deleted; the module reports what it would do.
      - With O(force_pull=true) the module cannot know whether the registry has a newer version,
        so it reports V(changed) in check mode.
  diff_mode:
    support: full
    details:
      - The diff shows the model's state and digest before and after.
  platform:
    platforms: posix

options:
  name:
    description:
      - Model name, V(name:tag) with an optional V(namespace/). Without a tag, V(latest) is meant
        (V(smollm2) and V(smollm2:latest) are the same model).
      - At most 200 ASCII letters, digits, C(.), C(_), C(:), C(/) and C(-), the rule the Tradia
        app applies too.
    type: str
    required: true
  state:
    description:
      - V(present) pulls or creates the model when needed; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  source:
    description:
      - Where the model comes from when O(state=present).
      - V(pull) downloads it from the registry Ollama is configured with.
      - V(file) creates it from the GGUF file O(path) on the target host.
    type: str
    choices: [pull, file]
    default: pull
  path:
    description:
      - Path of the GGUF file B(on the target host). Required with O(source=file) and
        O(state=present).
      - A file on the controller is first copied with M(ansible.builtin.copy) (see EXAMPLES);
        this module has no action plugin and never transfers files itself.
      - The file is hashed (sha256) on every run, reading it in chunks.
    type: path
  template:
    description:
      - Prompt template for O(source=file) (the Modelfile C(TEMPLATE)).
    type: str
  system:
    description:
      - System prompt for O(source=file) (the Modelfile C(SYSTEM)).
    type: str
  parameters:
    description:
      - Model parameters for O(source=file) (the Modelfile C(PARAMETER) lines), for example
        V(num_ctx) and V(temperature); a list value repeats the parameter (V(stop)).
    type: dict
  force_pull:
    description:
      - With O(source=pull), pull even when the model is present, to get the registry's latest
        version of the tag. Reports a change only when the digest changed.
    type: bool
    default: false
  retries:
    description:
      - How many times an interrupted pull is retried (connection lost or refused, timeout,
        server error, a stream that stops before V(success)).
      - Failures that a retry cannot fix are not retried (unknown model, disk full, wrong API
        key, TLS or DNS errors).
    type: int
    default: 3
  delay:
    description:
      - Seconds to wait between pull attempts.
    type: float
    default: 5
  timeout:
    # Replaces the fragment's timeout: a pull streams for a long time, so a longer default.
    description:
      - Seconds to wait for the connection and for B(each) read from the server, not for the
        whole pull. Ollama streams progress while it downloads, so a stalled transfer is
        detected without limiting how long a large model may take.
    type: float
    default: 300

notes:
  - With C(delegate_to=localhost), O(path) is a controller path.
  - The same C(sha256) blob is shared by all models created from it; deleting a model does not
    delete blobs that another model still uses (Ollama's own behaviour).

seealso:
  - module: ollama_info
    description: Check an Ollama endpoint and require models.
  - module: ansible.builtin.copy
    description: Copy a GGUF file from the controller to the target before importing it.
  - name: Ollama API
    description: The API this module uses (pull, blobs, create, show, delete).
    link: https://github.com/ollama/ollama/blob/main/docs/api.md

author:
  # No GitHub handle to name: (!UNKNOWN) is the form ansible-test accepts for that.
  - Tradia maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
---
- name: Pull the chat model through Traefik
  ollama_model:
    name: llama3.1:8b
    url: "https://ai1.example.com:11434"
    url_password: "{{ vault_ai_server_api_key }}"
    ca_path: /etc/tradia/ai-ca.pem
    retries: 5
    delay: 10
  register: ai_server_pull

- name: Copy a GGUF file from the controller to the AI server
  ansible.builtin.copy:
    src: files/smollm2-135m.Q4_1.gguf
    dest: /var/lib/tradia/models/smollm2-135m.Q4_1.gguf
    mode: "0644"

- name: Create a model from that file (uploaded only when Ollama lacks the blob)
  ollama_model:
    name: tradia-small:latest
    source: file
    path: /var/lib/tradia/models/smollm2-135m.Q4_1.gguf
    system: You are a concise writing assistant.
    parameters:
      num_ctx: 8192
      temperature: 0.3
    url: http://127.0.0.1:11434
    url_password: "{{ vault_ai_server_api_key }}"

- name: Remove a model we no longer serve
  ollama_model:
    name: qwen3:8b
    state: absent
    url: http://127.0.0.1:11434
    url_password: "{{ vault_ai_server_api_key }}"
"""

RETURN = r"""
model:
  description: The model name, with its tag.
  returned: always
  type: str
  sample: llama3.1:8b
digest:
  description:
    - The model's digest as C(GET /api/tags) lists it after the task (the manifest digest).
    - Empty when the model is absent; V(unknown) in check mode when the model would be
      pulled or created.
  returned: always
  type: str
  sample: 46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e
blob_digest:
  description: The sha256 of the GGUF file O(path), for O(source=file).
  returned: when O(source=file) and O(state=present)
  type: str
  sample: 9077b2f4a8f6d5a3c1e0b0c4d7e2f1a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0
bytes:
  description:
    - For a pull, the total size of the layers the pull reported; for O(source=file), the size of
      the file (uploaded or not, see RV(uploaded)). V(0) when nothing was pulled or created.
  returned: always
  type: int
  sample: 4920753328
duration:
  description: Seconds the pull, upload and create, or delete took (V(0) when nothing was done).
  returned: always
  type: float
  sample: 42.7
attempts:
  description: Pull attempts made (more than 1 when an interrupted pull was retried).
  returned: when a pull ran
  type: int
  sample: 1
uploaded:
  description: Whether the GGUF file was uploaded (false when the server already had the blob).
  returned: when O(source=file) and a model was created
  type: bool
  sample: true
actions:
  description: What the module did, or would do in check mode.
  returned: always
  type: list
  elements: str
  sample: ["pulled llama3.1:8b"]
error_kind:
  description:
    - On failure, the cause as a keyword, for C(failed_when) / C(rescue) logic.
    - For example V(registry_not_found), V(disk_full), V(digest_mismatch), V(auth), V(tls),
      V(connection_refused), V(dns), V(timeout), V(not_ollama), V(malformed_json),
      V(stream_error), V(interrupted), V(redirect), V(config).
  returned: failure
  type: str
  sample: registry_not_found
"""

import json
import os
import time
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.ollama_client import (
    OllamaClient,
    client_from_module,
    connection_argument_spec,
)
from ansible.module_utils.ollama_digests import blob_digest_from_show, file_sha256
from ansible.module_utils.ollama_errors import OllamaError
from ansible.module_utils.ollama_names import (
    MODEL_NAME_RULE,
    is_valid_model_name,
    normalize_model_name,
)


def _same_value(have: str, want: Any) -> bool:
    if isinstance(want, bool):
        want = str(want).lower()
    if str(have) == str(want):
        return True
    try:
        return float(have) == float(want)
    except (TypeError, ValueError):
        return False


def parse_show_parameters(text: str) -> dict[str, list[str]]:
    """/api/show's ``parameters`` text (``key  value`` lines, keys may repeat) as a dict."""
    parsed: dict[str, list[str]] = {}
    for line in text.splitlines():
        fields = line.strip().split(None, 1)
        if len(fields) == 2:
            value = fields[1].strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                try:  # Ollama prints string values JSON-quoted
                    value = str(json.loads(value))
                except ValueError:
                    value = value[1:-1]
            parsed.setdefault(fields[0], []).append(value)
    return parsed


def parameters_match(show_parameters: Any, wanted: dict[str, Any]) -> bool:
    if isinstance(show_parameters, dict):
        have = {k: v if isinstance(v, list) else [v] for k, v in show_parameters.items()}
    else:
        have = parse_show_parameters(show_parameters or "")
    for key, value in wanted.items():
        want = value if isinstance(value, list) else [value]
        current = have.get(key, [])
        if len(current) != len(want) or not all(
            _same_value(h, w) for h, w in zip(current, want, strict=True)
        ):
            return False
    return True


def file_model_differences(show: dict[str, Any], sha: str, params: dict[str, Any]) -> list[str]:
    """Why an existing model does not match the wanted file model (empty: up to date)."""
    reasons = []
    current = blob_digest_from_show(show)
    if current != sha:
        reasons.append(f"blob sha256:{current or 'unknown'} differs from the file's sha256:{sha}")
    for field in ("template", "system"):
        wanted = params[field]
        if wanted is not None and (show.get(field) or "").strip() != wanted.strip():
            reasons.append(f"{field} differs")
    if params["parameters"] and not parameters_match(show.get("parameters"), params["parameters"]):
        reasons.append("parameters differ")
    return reasons


class ModelManager:
    def __init__(self, module: AnsibleModule, client: OllamaClient) -> None:
        self.module = module
        self.client = client
        self.params = module.params
        self.name = normalize_model_name(self.params["name"])
        self.result: dict[str, Any] = {
            "changed": False,
            "model": self.name,
            "digest": "",
            "bytes": 0,
            "duration": 0.0,
            "actions": [],
        }

    def _digest(self, entry: dict[str, Any] | None) -> str:
        return str(entry.get("digest") or "") if entry else ""

    def _finish(self, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        self.result["digest"] = self._digest(after)

        def state(entry: dict[str, Any] | None) -> dict[str, str]:
            if entry is None:
                return {"state": "absent"}
            return {"state": "present", "digest": self._digest(entry)}

        self.result["diff"] = {"before": state(before), "after": state(after)}

    def run(self) -> dict[str, Any]:
        before = self.client.find_model(self.name)
        if self.params["state"] == "absent":
            self.absent(before)
        elif self.params["source"] == "pull":
            self.pull(before)
        else:
            self.from_file(before)
        return self.result

    def absent(self, before: dict[str, Any] | None) -> None:
        if before is None:
            self._finish(None, None)
            return
        self.result["changed"] = True
        self.result["actions"].append(f"deleted {self.name}")
        if not self.module.check_mode:
            started = time.monotonic()
            self.client.delete(self.name)
            self.result["duration"] = round(time.monotonic() - started, 3)
        self._finish(before, None)

    def pull(self, before: dict[str, Any] | None) -> None:
        if before is not None and not self.params["force_pull"]:
            self._finish(before, before)
            return
        self.result["actions"].append(f"pulled {self.name}")
        if self.module.check_mode:
            self.result["changed"] = True
            self._finish(before, {"digest": "unknown"} if before is None else before)
            return
        started = time.monotonic()
        total, attempts = self.client.pull(
            self.name, retries=self.params["retries"], delay=self.params["delay"]
        )
        self.result["duration"] = round(time.monotonic() - started, 3)
        self.result["bytes"] = total
        self.result["attempts"] = attempts
        after = self.client.find_model(self.name)
        if after is None:
            raise OllamaError(
                "interrupted", f"the pull of {self.name} succeeded but /api/tags does not list it"
            )
        self.result["changed"] = before is None or self._digest(before) != self._digest(after)
        self._finish(before, after)

    def from_file(self, before: dict[str, Any] | None) -> None:
        path = self.params["path"]
        if not path:
            raise OllamaError("config", "source=file needs path (the GGUF file on the target)")
        if not os.path.isfile(path):
            raise OllamaError(
                "config",
                f"path {path} is not a file on the target host (copy a controller file there"
                " first with ansible.builtin.copy)",
            )
        sha = file_sha256(path)
        size = os.path.getsize(path)
        self.result["blob_digest"] = sha
        if before is not None:
            show = self.client.show(self.name)
            reasons = (
                ["the model vanished"]
                if show is None
                else file_model_differences(show, sha, self.params)
            )
            if not reasons:
                self._finish(before, before)
                return
            self.result["actions"].append(f"recreate {self.name}: {'; '.join(reasons)}")
        self.result["changed"] = True
        self.result["actions"].append(f"created {self.name} from {path}")
        if self.module.check_mode:
            self._finish(before, {"digest": "unknown"})
            return
        started = time.monotonic()
        uploaded = not self.client.blob_exists(sha)
        if uploaded:
            self.client.upload_blob(sha, path)
        self.client.create(
            self.name,
            {os.path.basename(path): f"sha256:{sha}"},
            template=self.params["template"],
            system=self.params["system"],
            parameters=self.params["parameters"],
        )
        self.result["duration"] = round(time.monotonic() - started, 3)
        self.result["bytes"] = size
        self.result["uploaded"] = uploaded
        self._finish(before, self.client.find_model(self.name))


def main() -> None:
    argument_spec = connection_argument_spec(timeout=300)
    argument_spec.update(
        name={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        source={"type": "str", "choices": ["pull", "file"], "default": "pull"},
        path={"type": "path"},
        template={"type": "str"},
        system={"type": "str"},
        parameters={"type": "dict"},
        force_pull={"type": "bool", "default": False},
        retries={"type": "int", "default": 3},
        delay={"type": "float", "default": 5},
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
    )
    if module.params["retries"] < 0 or module.params["delay"] < 0:
        module.fail_json(msg="retries and delay must not be negative", error_kind="config")
    if not is_valid_model_name(module.params["name"].strip()):
        module.fail_json(
            msg=f"invalid model name {module.params['name']!r}: {MODEL_NAME_RULE}",
            error_kind="config",
        )
    manager = None
    try:
        manager = ModelManager(module, client_from_module(module))
        result = manager.run()
    except OllamaError as exc:
        partial = manager.result if manager is not None else {}
        module.fail_json(**{**partial, "changed": False, **exc.as_result()})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
