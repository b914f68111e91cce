"""ollama_model: idempotence decisions, check mode, pull stream errors, retries, file import."""

from __future__ import annotations

import base64
import hashlib

import pytest
from fake_ollama import FakeOllama, Reply, digest_of, ndjson
from module_harness import API_KEY


def args(url: str, name: str = "llama3.1:8b", **extra):
    return {"url": url, "url_password": API_KEY, "name": name, "delay": 0, **extra}


def assert_no_key(run) -> None:
    assert API_KEY not in run.raw
    assert base64.b64encode(f"api:{API_KEY}".encode()).decode() not in run.raw


@pytest.fixture
def gguf(tmp_path):
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + bytes(range(256)) * 64)
    return path


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- pull ------------------------------------------------------------------------------------


def test_pull_absent_model(fake: FakeOllama, ollama_model, run_module):
    run = run_module(ollama_model, args(fake.url))
    assert not run.failed, run.result
    assert run["changed"] is True
    assert run["model"] == "llama3.1:8b"
    assert run["bytes"] == 1000
    assert run["attempts"] == 1
    assert run["digest"] == digest_of("llama3.1:8b")
    assert isinstance(run["duration"], float)
    assert run["diff"] == {
        "before": {"state": "absent"},
        "after": {"state": "present", "digest": digest_of("llama3.1:8b")},
    }
    assert fake.calls("POST", "/api/pull")[0].body_json == {"model": "llama3.1:8b", "stream": True}
    assert_no_key(run)


def test_pull_present_is_unchanged(fake: FakeOllama, ollama_model, run_module):
    fake.add_model("llama3.1:8b")
    run = run_module(ollama_model, args(fake.url))
    assert run["changed"] is False
    assert run["digest"] == digest_of("llama3.1:8b")
    assert not fake.calls("POST", "/api/pull")


def test_pull_name_without_tag_matches_latest(fake: FakeOllama, ollama_model, run_module):
    fake.add_model("smollm2:latest")
    run = run_module(ollama_model, args(fake.url, name="smollm2"))
    assert run["changed"] is False
    assert run["model"] == "smollm2:latest"


def test_force_pull_same_digest_is_unchanged(fake: FakeOllama, ollama_model, run_module):
    fake.add_model("llama3.1:8b")
    run = run_module(ollama_model, args(fake.url, force_pull=True))
    assert fake.calls("POST", "/api/pull")
    assert run["changed"] is False


def test_force_pull_new_digest_is_changed(fake: FakeOllama, ollama_model, run_module):
    fake.add_model("llama3.1:8b")
    fake.pull_digests["llama3.1:8b"] = "f" * 64
    run = run_module(ollama_model, args(fake.url, force_pull=True))
    assert run["changed"] is True
    assert run["digest"] == "f" * 64


def test_pull_check_mode_changes_nothing(fake: FakeOllama, ollama_model, run_module):
    run = run_module(ollama_model, args(fake.url), check_mode=True)
    assert run["changed"] is True
    assert run["actions"] == ["pulled llama3.1:8b"]
    assert not fake.calls("POST", "/api/pull")
    assert fake.models == {}


def test_pull_check_mode_present(fake: FakeOllama, ollama_model, run_module):
    fake.add_model("llama3.1:8b")
    run = run_module(ollama_model, args(fake.url), check_mode=True)
    assert run["changed"] is False


def test_pull_unknown_model_not_found_in_registry(fake: FakeOllama, ollama_model, run_module):
    fake.routes[("POST", "/api/pull")] = lambda s, r: Reply(
        body=ndjson(
            {"status": "pulling manifest"},
            {"error": "pull model manifest: file does not exist"},
        ),
        content_type="application/x-ndjson",
    )
    run = run_module(ollama_model, args(fake.url, name="nosuch:1b", retries=3))
    assert run.failed
    assert run["error_kind"] == "registry_not_found"
    assert "model 'nosuch:1b' not found in the registry" in run["msg"]
    assert len(fake.calls("POST", "/api/pull")) == 1  # not retried


def test_pull_disk_full(fake: FakeOllama, ollama_model, run_module):
    line = "write /root/.ollama/models/blobs/sha256-abc-partial: no space left on device"
    fake.routes[("POST", "/api/pull")] = lambda s, r: Reply(
        body=ndjson({"status": "pulling manifest"}, {"error": line}),
        content_type="application/x-ndjson",
    )
    run = run_module(ollama_model, args(fake.url, retries=3))
    assert run["error_kind"] == "disk_full"
    assert "ran out of disk space (no space left on device)" in run["msg"]
    assert len(fake.calls("POST", "/api/pull")) == 1


def test_pull_error_line_with_status_200_fails(fake: FakeOllama, ollama_model, run_module):
    fake.routes[("POST", "/api/pull")] = lambda s, r: Reply(
        body=ndjson({"status": "pulling manifest"}, {"error": "max retries exceeded: EOF"}),
        content_type="application/x-ndjson",
    )
    run = run_module(ollama_model, args(fake.url, retries=1))
    assert run["error_kind"] == "stream_error"
    assert "max retries exceeded: EOF" in run["msg"]
    assert "after 2 attempts" in run["msg"]
    assert len(fake.calls("POST", "/api/pull")) == 2


def test_interrupted_pull_is_retried(fake: FakeOllama, ollama_model, run_module):
    attempts = []

    def flaky(server: FakeOllama, rec):
        attempts.append(1)
        if len(attempts) == 1:  # the stream stops before "success": connection cut
            return Reply(
                body=ndjson({"status": "pulling manifest"}),
                content_type="application/x-ndjson",
                close_after=True,
            )
        return server.default(rec, "/api/pull", b"")

    fake.routes[("POST", "/api/pull")] = flaky
    run = run_module(ollama_model, args(fake.url, retries=2))
    assert not run.failed, run.result
    assert run["attempts"] == 2
    assert run["changed"] is True


def test_interrupted_pull_gives_up_after_retries(fake: FakeOllama, ollama_model, run_module):
    fake.routes[("POST", "/api/pull")] = lambda s, r: Reply(
        body=ndjson({"status": "pulling manifest"}),
        content_type="application/x-ndjson",
        close_after=True,
    )
    run = run_module(ollama_model, args(fake.url, retries=2))
    assert run["error_kind"] == "interrupted"
    assert "after 3 attempts" in run["msg"]
    assert len(fake.calls("POST", "/api/pull")) == 3


def test_pull_server_error_is_retried(fake: FakeOllama, ollama_model, run_module):
    calls = []

    def once_500(server, rec):
        calls.append(1)
        if len(calls) == 1:
            return Reply(500, {"error": "registry hiccup"})
        return server.default(rec, "/api/pull", b"")

    fake.routes[("POST", "/api/pull")] = once_500
    run = run_module(ollama_model, args(fake.url, retries=1))
    assert not run.failed, run.result
    assert run["attempts"] == 2


def test_auth_failure_same_message_as_info(fake: FakeOllama, ollama_model, run_module):
    fake.routes[("GET", "/api/tags")] = lambda s, r: Reply(401, "401 Unauthorized", "text/plain")
    run = run_module(ollama_model, args(fake.url))
    assert run["error_kind"] == "auth"
    assert run["msg"].startswith("authentication failed: check the API key")
    assert_no_key(run)


def test_model_connection_refused(closed_port, ollama_model, run_module):
    run = run_module(ollama_model, args(f"http://127.0.0.1:{closed_port}"))
    assert run["error_kind"] == "connection_refused"
    assert_no_key(run)


def test_pull_read_timeout(fake: FakeOllama, ollama_model, run_module):
    import time

    def stall(server, rec):
        time.sleep(1.0)
        return server.default(rec, "/api/pull", b"")

    fake.routes[("POST", "/api/pull")] = stall
    run = run_module(ollama_model, args(fake.url, timeout=0.3, retries=0))
    assert run["error_kind"] == "timeout"
    assert "timed out after 0.3 s" in run["msg"]


# ---- absent ----------------------------------------------------------------------------------


def test_absent_deletes_then_is_idempotent(fake: FakeOllama, ollama_model, run_module):
    fake.add_model("qwen3:8b")
    run = run_module(ollama_model, args(fake.url, name="qwen3:8b", state="absent"))
    assert run["changed"] is True
    assert fake.calls("DELETE", "/api/delete")[0].body_json == {"model": "qwen3:8b"}
    again = run_module(ollama_model, args(fake.url, name="qwen3:8b", state="absent"))
    assert again["changed"] is False
    assert len(fake.calls("DELETE", "/api/delete")) == 1


def test_absent_check_mode(fake: FakeOllama, ollama_model, run_module):
    fake.add_model("qwen3:8b")
    run = run_module(ollama_model, args(fake.url, name="qwen3", state="absent"), check_mode=True)
    assert run["changed"] is False  # qwen3 means qwen3:latest, which is not there
    run = run_module(ollama_model, args(fake.url, name="qwen3:8b", state="absent"), check_mode=True)
    assert run["changed"] is True
    assert not fake.calls("DELETE", "/api/delete")
    assert "qwen3:8b" in fake.models


# ---- source: file ----------------------------------------------------------------------------


def test_file_import_uploads_and_creates(fake: FakeOllama, gguf, ollama_model, run_module):
    run = run_module(
        ollama_model,
        args(
            fake.url,
            name="tiny",
            source="file",
            path=str(gguf),
            system="Be brief.",
            parameters={"num_ctx": 4096},
        ),
    )
    assert not run.failed, run.result
    assert run["changed"] is True
    assert run["uploaded"] is True
    assert run["blob_digest"] == sha(gguf)
    assert run["bytes"] == gguf.stat().st_size
    upload = fake.calls("POST", "/api/blobs/")[0]
    assert upload.path == f"/api/blobs/sha256:{sha(gguf)}"
    assert upload.body_sha256 == sha(gguf)
    assert upload.headers["Content-Length"] == str(gguf.stat().st_size)
    create = fake.calls("POST", "/api/create")[0].body_json
    assert create["model"] == "tiny:latest"
    assert create["files"] == {"tiny.gguf": f"sha256:{sha(gguf)}"}
    assert create["system"] == "Be brief."
    assert create["parameters"] == {"num_ctx": 4096}
    assert run["digest"] == fake.models["tiny:latest"]["digest"]


def test_file_blob_already_there_is_not_uploaded(fake, gguf, ollama_model, run_module):
    fake.blobs.add(sha(gguf))
    run = run_module(ollama_model, args(fake.url, name="tiny", source="file", path=str(gguf)))
    assert run["changed"] is True
    assert run["uploaded"] is False
    assert fake.calls("HEAD", "/api/blobs/")
    assert not fake.calls("POST", "/api/blobs/")


def test_file_same_digest_is_unchanged(fake, gguf, ollama_model, run_module):
    fake.add_model(
        "tiny:latest",
        blob=sha(gguf),
        system="Be brief.",
        parameters='num_ctx                        4096\nstop "<|im_end|>"',
    )
    run = run_module(
        ollama_model,
        args(
            fake.url,
            name="tiny",
            source="file",
            path=str(gguf),
            system="Be brief.",
            parameters={"num_ctx": 4096, "stop": ["<|im_end|>"]},
        ),
    )
    assert not run.failed, run.result
    assert run["changed"] is False
    assert not fake.calls("POST", "/api/create")
    assert not fake.calls("HEAD", "/api/blobs/")


@pytest.mark.parametrize(
    ("show", "extra", "reason"),
    [
        ({"blob": "0" * 64}, {}, "differs from the file's sha256"),
        ({"system": "old"}, {"system": "new"}, "system differs"),
        ({"parameters": "num_ctx 2048"}, {"parameters": {"num_ctx": 4096}}, "parameters differ"),
    ],
)
def test_file_differences_recreate(fake, gguf, ollama_model, run_module, show, extra, reason):
    fake.add_model("tiny:latest", **{"blob": sha(gguf), **show})
    run = run_module(
        ollama_model, args(fake.url, name="tiny", source="file", path=str(gguf), **extra)
    )
    assert run["changed"] is True
    assert reason in run["actions"][0]
    assert fake.calls("POST", "/api/create")


def test_file_check_mode_changes_nothing(fake, gguf, ollama_model, run_module):
    run = run_module(
        ollama_model, args(fake.url, name="tiny", source="file", path=str(gguf)), check_mode=True
    )
    assert run["changed"] is True
    assert run["blob_digest"] == sha(gguf)
    assert not fake.calls("HEAD", "/api/blobs/")
    assert not fake.calls("POST", "/api/blobs/")
    assert not fake.calls("POST", "/api/create")


def test_file_check_mode_up_to_date(fake, gguf, ollama_model, run_module):
    fake.add_model("tiny:latest", blob=sha(gguf))
    run = run_module(
        ollama_model, args(fake.url, name="tiny", source="file", path=str(gguf)), check_mode=True
    )
    assert run["changed"] is False


def test_file_digest_mismatch(fake, gguf, ollama_model, run_module):
    fake.routes[("POST", "/api/blobs/*")] = lambda s, r: Reply(400, {"error": "digest mismatch"})
    run = run_module(ollama_model, args(fake.url, name="tiny", source="file", path=str(gguf)))
    assert run["error_kind"] == "digest_mismatch"
    assert run["msg"].startswith("digest mismatch")
    assert not fake.calls("POST", "/api/create")


def test_file_missing_on_target(fake, tmp_path, ollama_model, run_module):
    run = run_module(
        ollama_model,
        args(fake.url, name="tiny", source="file", path=str(tmp_path / "nope.gguf")),
    )
    assert run["error_kind"] == "config"
    assert "ansible.builtin.copy" in run["msg"]


def test_file_without_path(fake, ollama_model, run_module):
    run = run_module(ollama_model, args(fake.url, name="tiny", source="file"))
    assert run["error_kind"] == "config"


def test_create_error_line(fake, gguf, ollama_model, run_module):
    fake.routes[("POST", "/api/create")] = lambda s, r: Reply(
        body=ndjson({"status": "parsing GGUF"}, {"error": "invalid file magic"}),
        content_type="application/x-ndjson",
    )
    run = run_module(ollama_model, args(fake.url, name="tiny", source="file", path=str(gguf)))
    assert run["error_kind"] == "stream_error"
    assert "invalid file magic" in run["msg"]


def test_create_disk_full(fake, gguf, ollama_model, run_module):
    fake.routes[("POST", "/api/blobs/*")] = lambda s, r: Reply(
        500, {"error": "write /models/blobs/x: no space left on device"}
    )
    run = run_module(ollama_model, args(fake.url, name="tiny", source="file", path=str(gguf)))
    assert run["error_kind"] == "disk_full"


# ---- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["llama3.1:8b; rm -rf /", "modèle", "a" * 201, ""])
def test_invalid_name_fails_before_any_request(fake: FakeOllama, ollama_model, run_module, name):
    """The app's model-name rule (module_utils/ollama_names.py) applies to the module too."""
    run = run_module(ollama_model, args(fake.url, name=name))
    assert run.failed
    assert run["error_kind"] == "config"
    assert f"invalid model name {name!r}" in run["msg"]
    assert fake.requests == []
