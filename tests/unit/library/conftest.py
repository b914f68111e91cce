"""Fixtures for the unit tests of library/ and module_utils/.

The modules import ``ansible.module_utils.ollama_*``; Ansible finds them through
``module_utils = ./module_utils`` at run time, here we extend the package path the same way.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import ansible.module_utils
import pytest
from ansible.module_utils.testing import patch_module_args
from fake_ollama import FakeOllama
from module_harness import ModuleRun, load_module
from ollama_sim.testing import Pki, free_port, make_pki

REPO = Path(__file__).resolve().parents[3]
if str(REPO / "module_utils") not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(str(REPO / "module_utils"))


@pytest.fixture(scope="session")
def ollama_info() -> ModuleType:
    return load_module("ollama_info")


@pytest.fixture(scope="session")
def ollama_model() -> ModuleType:
    return load_module("ollama_model")


@pytest.fixture
def run_module(capsys: pytest.CaptureFixture[str]):
    def run(module: ModuleType, args: dict[str, Any], check_mode: bool = False) -> ModuleRun:
        args = dict(args)
        if check_mode:
            args["_ansible_check_mode"] = True
        with patch_module_args(args), pytest.raises(SystemExit) as exited:
            module.main()
        out = capsys.readouterr().out
        return ModuleRun(out, int(exited.value.code or 0))

    return run


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    server = FakeOllama()
    yield server
    server.close()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_fake(pki: Pki) -> Iterator[FakeOllama]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    server = FakeOllama(tls=context)
    yield server
    server.close()


@pytest.fixture
def closed_port() -> int:
    return free_port()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections (kernel backlog) but never answers: every read times out."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]
