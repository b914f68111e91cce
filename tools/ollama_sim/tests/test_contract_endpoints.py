"""One test per row of ollama-api.md's endpoint table, over real HTTP."""

import hashlib
import struct

import httpx
import pytest

from .helpers import HEX64, RFC3339_NANO, assert_final_metrics, ndjson, user


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_root_says_ollama_is_running(client: httpx.Client, method: str) -> None:
    response = client.request(method, "/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == ("Ollama is running" if method == "GET" else "")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_version(client: httpx.Client, method: str) -> None:
    response = client.request(method, "/api/version")
    assert response.status_code == 200
    if method == "GET":
        assert response.json() == {"version": "0.12.6"}


def test_tags_lists_models_with_details(client: httpx.Client) -> None:
    models = {m["name"]: m for m in client.get("/api/tags").json()["models"]}
    assert {"llama3.1:8b", "qwen3:8b", "qwen2.5vl:7b"} <= set(models)
    entry = models["llama3.1:8b"]
    assert entry["model"] == "llama3.1:8b"
    assert RFC3339_NANO.match(entry["modified_at"])
    assert HEX64.match(entry["digest"])
    assert entry["size"] > 1_000_000
    assert entry["details"] == {
        "parent_model": "",
        "format": "gguf",
        "family": "llama",
        "families": ["llama"],
        "parameter_size": "8.0B",
        "quantization_level": "Q4_K_M",
    }
    assert client.head("/api/tags").status_code == 200


def test_tags_is_an_empty_list_on_a_fresh_store(start_server) -> None:
    with start_server() as fresh:
        assert httpx.get(f"{fresh.url}/api/tags").json() == {"models": []}


def test_ps_lists_loaded_models(client: httpx.Client) -> None:
    reply = client.post(
        "/api/chat", json={"model": "llama3.1:8b", "messages": [], "keep_alive": "10m"}
    )
    assert reply.json()["done_reason"] == "load"
    loaded = {m["name"]: m for m in client.get("/api/ps").json()["models"]}
    entry = loaded["llama3.1:8b"]
    assert set(entry) == {
        "name", "model", "size", "digest", "details", "expires_at", "size_vram",
        "context_length",
    }  # fmt: skip
    assert RFC3339_NANO.match(entry["expires_at"])
    assert entry["context_length"] == 4096
    assert entry["size_vram"] == entry["size"] > 0
    assert HEX64.match(entry["digest"])


def test_show_reports_model_facts(client: httpx.Client) -> None:
    response = client.post("/api/show", json={"model": "qwen3:8b"})
    assert response.status_code == 200
    body = response.json()
    assert body["capabilities"] == ["completion", "tools", "thinking"]
    assert body["model_info"]["general.architecture"] == "qwen3"
    assert body["model_info"]["qwen3.context_length"] == 40960
    assert body["details"]["family"] == "qwen3"
    assert "FROM " in body["modelfile"]
    assert ".Thinking" in body["template"]
    assert "temperature" in body["parameters"]
    assert RFC3339_NANO.match(body["modified_at"])
    vision = client.post("/api/show", json={"model": "qwen2.5vl:7b"}).json()
    assert "vision" in vision["capabilities"]


def test_show_unknown_model_is_404(client: httpx.Client) -> None:
    response = client.post("/api/show", json={"model": "nope:1b"})
    assert response.status_code == 404
    assert response.json() == {"error": "model 'nope:1b' not found"}


def test_pull_streams_progress_per_layer(start_server) -> None:
    with start_server() as fresh:
        response = httpx.post(f"{fresh.url}/api/pull", json={"model": "llama3.1:8b"}, timeout=30)
        lines = ndjson(response)
        tags = httpx.get(f"{fresh.url}/api/tags").json()["models"]
    statuses = [line["status"] for line in lines]
    assert statuses[0] == "pulling manifest"
    assert statuses[-4:] == [
        "verifying sha256 digest", "writing manifest", "removing unused layers", "success",
    ]  # fmt: skip
    layers = [line for line in lines if line["status"].startswith("pulling ") and "digest" in line]
    weights = [line for line in layers if line["total"] > 1_000_000]
    assert len(weights) >= 2, "the big layer reports progress more than once"
    assert weights[-1]["completed"] == weights[-1]["total"]
    for line in layers:
        assert line["status"] == f"pulling {line['digest'][7:19]}"
    assert [m["name"] for m in tags] == ["llama3.1:8b"]


def test_pull_unknown_model_ends_with_an_error_line(client: httpx.Client) -> None:
    response = client.post("/api/pull", json={"model": "nope:1b"})
    assert response.status_code == 200
    assert ndjson(response)[-1] == {"error": "pull model manifest: file does not exist"}


def test_pull_without_streaming(client: httpx.Client) -> None:
    ok = client.post("/api/pull", json={"model": "qwen3:8b", "stream": False})
    assert (ok.status_code, ok.json()) == (200, {"status": "success"})
    missing = client.post("/api/pull", json={"model": "nope:1b", "stream": False})
    assert missing.status_code == 500
    assert missing.json() == {"error": "pull model manifest: file does not exist"}


def _gguf_bytes(text: str) -> bytes:
    # A minimal GGUF v3 file: header with one metadata key, then filler.
    key, value = b"general.architecture", b"llama"
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, 1)
    header += struct.pack("<Q", len(key)) + key + struct.pack("<IQ", 8, len(value)) + value
    return header + text.encode() * 1000


def test_blob_head_then_upload_then_head(client: httpx.Client) -> None:
    data = _gguf_bytes("blob-upload-test")
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert client.head(f"/api/blobs/{digest}").status_code == 404
    assert client.post(f"/api/blobs/{digest}", content=data).status_code == 201
    assert client.head(f"/api/blobs/{digest}").status_code == 200


def test_blob_upload_with_a_wrong_digest_is_400(client: httpx.Client) -> None:
    wrong = "sha256:" + "0" * 64
    response = client.post(f"/api/blobs/{wrong}", content=b"not these bytes")
    assert response.status_code == 400
    assert "digest mismatch" in response.json()["error"]
    assert client.head(f"/api/blobs/{wrong}").status_code == 404


def test_blob_upload_streams_to_disk(client: httpx.Client) -> None:
    chunk = b"x" * 65536
    data_digest = hashlib.sha256(chunk * 64).hexdigest()

    def body():
        for _ in range(64):
            yield chunk

    response = client.post(f"/api/blobs/sha256:{data_digest}", content=body())
    assert response.status_code == 201


def test_create_from_an_uploaded_gguf(client: httpx.Client) -> None:
    data = _gguf_bytes("create-test")
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    client.post(f"/api/blobs/{digest}", content=data)
    response = client.post(
        "/api/create",
        json={
            "model": "custom/writer:1",
            "files": {"model.gguf": digest},
            "template": "{{ .Prompt }}",
            "system": "You edit text.",
            "parameters": {"temperature": 0.2, "stop": ["###"]},
        },
    )
    lines = ndjson(response)
    assert lines[-1] == {"status": "success"}
    assert any(line["status"] == f"using existing layer {digest}" for line in lines)
    show = client.post("/api/show", json={"model": "custom/writer:1"}).json()
    assert show["system"] == "You edit text."
    assert show["details"]["family"] == "llama"
    names = [m["name"] for m in client.get("/api/tags").json()["models"]]
    assert "custom/writer:1" in names
    reply = client.post(
        "/api/chat",
        json={"model": "custom/writer:1", "messages": user("hi"), "stream": False},
    )
    assert reply.status_code == 200


def test_create_with_a_missing_blob_is_400(client: httpx.Client) -> None:
    response = client.post(
        "/api/create",
        json={"model": "broken", "files": {"model.gguf": "sha256:" + "1" * 64}},
    )
    assert response.status_code == 400
    assert "error" in response.json()


def test_create_rejects_a_blob_that_is_not_gguf(client: httpx.Client) -> None:
    data = b"PK\x03\x04 this is a zip, not a model" * 10
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert client.post(f"/api/blobs/{digest}", content=data).status_code == 201
    response = client.post("/api/create", json={"model": "zip", "files": {"model.gguf": digest}})
    assert response.status_code == 400
    assert response.json() == {"error": "supplied file was not in GGUF format"}


def test_create_without_streaming(client: httpx.Client) -> None:
    response = client.post(
        "/api/create",
        json={"model": "tradia-writer", "from": "llama3.1:8b", "system": "Be brief.",
              "stream": False},
    )  # fmt: skip
    assert (response.status_code, response.json()) == (200, {"status": "success"})
    details = client.post("/api/show", json={"model": "tradia-writer"}).json()["details"]
    assert details["parent_model"] == "llama3.1:8b"


def test_delete_then_404(client: httpx.Client) -> None:
    client.post("/api/create", json={"model": "to-delete", "from": "llama3.1:8b", "stream": False})
    first = client.request("DELETE", "/api/delete", json={"model": "to-delete"})
    assert (first.status_code, first.content) == (200, b"")
    second = client.request("DELETE", "/api/delete", json={"model": "to-delete"})
    assert second.status_code == 404
    assert second.json() == {"error": "model 'to-delete' not found"}
    names = [m["name"] for m in client.get("/api/tags").json()["models"]]
    assert "to-delete:latest" not in names


def test_chat_streams_chunks_then_a_final_chunk(client: httpx.Client) -> None:
    response = client.post(
        "/api/chat", json={"model": "llama3.1:8b", "messages": user("Fix: me and him goes")}
    )
    assert response.status_code == 200
    chunks = ndjson(response)
    body, final = chunks[:-1], chunks[-1]
    assert len(body) > 3
    for chunk in body:
        assert set(chunk) == {"model", "created_at", "message", "done"}
        assert chunk["done"] is False
        assert chunk["model"] == "llama3.1:8b"
        assert chunk["message"]["role"] == "assistant"
        assert RFC3339_NANO.match(chunk["created_at"])
    assert "me and him goes" in "".join(c["message"]["content"] for c in body)
    assert final["done_reason"] == "stop"
    assert final["message"] == {"role": "assistant", "content": ""}
    assert_final_metrics(final)


def test_generate_streams_responses_then_a_final_chunk(client: httpx.Client) -> None:
    response = client.post("/api/generate", json={"model": "llama3.1:8b", "prompt": "Say hi"})
    chunks = ndjson(response)
    for chunk in chunks[:-1]:
        assert set(chunk) == {"model", "created_at", "response", "done"}
    final = chunks[-1]
    assert final["response"] == ""
    assert final["done_reason"] == "stop"
    assert isinstance(final["context"], list)
    assert_final_metrics(final)
    assert "Say hi" in "".join(c["response"] for c in chunks)
