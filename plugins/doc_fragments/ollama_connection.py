# Copyright (c) 2026, Tradia
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options of every Ollama module.

Their argument spec is module_utils/ollama_client.py's ``connection_argument_spec``.
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Ollama API, for example V(https://ai1.example.com:11434) or
        V(http://127.0.0.1:11434).
      - Must not contain credentials; put the API key in O(url_password).
    type: str
    required: true
  url_username:
    description:
      - User name for HTTP basic authentication.
    type: str
    default: api
  url_password:
    description:
      - Password for HTTP basic authentication, that is the API key.
      - Sent pre-emptively with the first request (the module does not wait for a 401
        challenge). When omitted, requests are sent without authentication.
      - Never shown in the output or in failure messages.
    type: str
    aliases: [api_key]
  validate_certs:
    description:
      - Verify the server's TLS certificate (and its host name) for V(https) URLs.
      - Set to V(false) only for throw-away tests; prefer O(ca_path).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) to verify the server certificate against, on the
        target host. When set, only these CAs are trusted.
    type: path
  timeout:
    description:
      - Seconds to wait for the connection and for each read from the server.
    type: float
    default: 30

notes:
  - Redirects are not followed, so that the API key is never sent to another address. A
    redirect fails with a message that names the target; point O(url) at the final address.
  - Runs on the target host with the Python standard library only (it uses
    C(ansible.module_utils.urls)). To talk to a remote Ollama from the controller, use
    C(delegate_to=localhost).

requirements:
  - Python 3 on the target (standard library only).
"""
