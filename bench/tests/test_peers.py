"""The peers part's parsing and figures, from hand-made streams and rows (no Open WebUI, no
stack): its OpenAI-stream reader, what a user is shown, the derived figures, the goals, the
table and plot, the process meter, and the install's reuse."""

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from bench import __main__ as bench_main
from bench import goals, peers_install, plots, report
from bench.scenarios import peers


def _sse(*chunks: dict | str) -> bytes:
    lines = [f"data: {c if isinstance(c, str) else json.dumps(c)}\n\n" for c in chunks]
    return "".join(lines).encode()


def _delta(text: str) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": text}}]}


# The OpenAI-compatible stream


def test_sse_line_content_usage_done_and_error():
    assert peers.parse_sse_line("") is None
    assert peers.parse_sse_line(": keep-alive") is None
    assert peers.parse_sse_line('data: {"choices":[{"delta":{"content":"Bon"}}]}').content == "Bon"
    final = peers.parse_sse_line(
        'data: {"choices":[{"delta":{}}],"usage":{"completion_tokens":233,"prompt_tokens":9}}'
    )
    assert (final.content, final.completion_tokens, final.done) == ("", 233, False)
    assert peers.parse_sse_line("data: [DONE]").done
    assert peers.parse_sse_line('data: {"error":{"message":"boom"}}').error == "boom"


def _run_openai(body: bytes, status: int = 200):
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/chat/completions"
        return httpx.Response(status, content=body)

    async def go():
        async with httpx.AsyncClient(
            base_url="http://peer", transport=httpx.MockTransport(answer)
        ) as http:
            return await peers.openai_chat(http, {"model": "m", "messages": []}, "translate")

    import asyncio

    return asyncio.run(go())


def test_openai_stream_counts_the_reported_tokens():
    body = _sse(
        _delta("Bon"),
        _delta("jour"),
        {"choices": [{"delta": {}}], "usage": {"completion_tokens": 7}},
        "[DONE]",
    )
    sample = _run_openai(body)
    assert sample.ok
    assert sample.error == ""
    assert sample.tokens == 7
    assert sample.ttft is not None
    assert sample.ttft <= sample.duration


def test_openai_stream_without_usage_counts_the_deltas():
    sample = _run_openai(_sse(_delta("a"), _delta(""), _delta("b"), "[DONE]"))
    assert (sample.ok, sample.tokens) == (True, 2)


def test_openai_stream_cut_or_failed_is_a_failure():
    cut = _run_openai(_sse(_delta("a"), _delta("b")))
    assert (cut.ok, cut.error) == (False, "no_done_line")
    failed = _run_openai(_sse(_delta("a"), {"error": {"message": "upstream gone"}}))
    assert (failed.ok, failed.error) == (False, "stream_error")
    refused = _run_openai(b"", status=401)
    assert (refused.ok, refused.error) == (False, "http_401")


def test_openai_body_keeps_the_generation_options():
    ollama = {
        "model": "llama3.1:8b",
        "messages": [{"role": "user", "content": "x"}],
        "stream": True,
        "think": False,
        "keep_alive": "30m",
        "options": {"num_ctx": 8192, "num_predict": 1084, "temperature": 0.1},
    }
    body = peers.openai_body(ollama)
    assert body["messages"] == ollama["messages"]
    assert body["stream"] is True
    # num_ctx must reach the simulator unchanged, or it reloads the model (load_s) per switch.
    assert body["options"] == {
        "num_ctx": 8192,
        "num_predict": 1084,
        "temperature": 0.1,
        "keep_alive": "30m",
        "think": False,
    }
    assert "keep_alive" not in ollama["options"]


# What a user is shown


@pytest.mark.parametrize(
    ("product", "line", "kind", "detail"),
    [
        ("chain", '{"type":"queued","position":3}', "queued", "position 3"),
        ("chain", '{"type":"started","model":"m"}', "other", "started"),
        ("chain", '{"type":"token","text":"Bon"}', "token", ""),
        (
            "chain",
            '{"type":"error","error":"upstream_unavailable","message":"gone"}',
            "error",
            "upstream_unavailable: gone",
        ),
        (
            "owui_ollama",
            '{"message":{"role":"assistant","content":"Bon"},"done":false}',
            "token",
            "",
        ),
        ("owui_ollama", '{"done":true,"eval_count":3}', "done", ""),
        ("owui_ollama", '{"error":"model runner has unexpectedly stopped"}', "error", ""),
        ("owui_openai", 'data: {"choices":[{"delta":{"content":"Bon"}}]}', "token", ""),
        ("owui_openai", "data: [DONE]", "done", ""),
        ("owui_openai", 'data: {"choices":[{"delta":{"role":"assistant"}}]}', "other", ""),
    ],
)
def test_classify(product, line, kind, detail):
    seen = peers.classify(product, line)
    assert seen is not None
    assert seen.kind == kind
    if detail:
        assert seen.detail == detail


def test_classify_skips_blank_lines():
    assert peers.classify("chain", "  ") is None
    assert peers.classify("owui_openai", ": ping") is None


# Figures


def _row(path, users, ttft, tokens_per_s, failed=0, cpu=None, sent=0, profile="rtx4090"):
    return {
        "profile": profile,
        "parallel": 1,
        "users": users,
        "path": path,
        "requests": 10,
        "failed": failed,
        "ttft_ms": [ttft, ttft * 1.5] if ttft else None,
        "tokens_per_s": tokens_per_s,
        "server_cpu_s": cpu,
        "server_requests": sent,
        "server_peak_rss_mib": None,
    }


def test_derive_takes_each_figure_over_its_own_cells_direct_row():
    rows = peers.derive(
        [
            _row("direct", 1, 100.0, 120.0),
            _row("chain", 1, 110.0, 118.8, cpu=3.0, sent=12),
            _row("owui_ollama", 1, 120.0, 117.6, cpu=6.0, sent=12),
            # Another cell's direct row must not be the baseline of the first cell's rows.
            _row("direct", 20, 300.0, 600.0),
            _row("chain", 20, 350.0, 540.0),
        ]
    )
    by = {(r["users"], r["path"]): r for r in rows}
    assert by[(1, "direct")]["added_ttft_ms"] == [0.0, 0.0]
    assert by[(1, "chain")]["added_ttft_ms"] == [10.0, 15.0]
    assert by[(1, "owui_ollama")]["added_ttft_ms"] == [20.0, 30.0]
    assert by[(1, "chain")]["tokens_ratio"] == 0.99
    assert by[(20, "chain")]["added_ttft_ms"] == [50.0, 75.0]
    assert by[(20, "chain")]["tokens_ratio"] == 0.9
    assert by[(1, "chain")]["server_cpu_s_per_100"] == 25.0
    assert by[(1, "direct")]["server_cpu_s_per_100"] is None


def test_cpu_delta_counts_new_processes_from_zero():
    start = {(1, 10.0): 2.0, (2, 10.0): 1.0, (4, 10.0): 9.0}
    # pid 3 is new; pid 4 was reused by a process started later: both count from 0.
    end = {(1, 10.0): 2.5, (2, 10.0): 1.25, (3, 11.0): 0.5, (4, 12.0): 0.1}
    assert peers.cpu_delta(start, end) == pytest.approx(1.35)


_CHILD = """
import sys, time
block = bytearray(64 * 2**20)
for i in range(0, len(block), 4096):
    block[i] = 1
start = time.process_time()
while time.process_time() - start < 0.3:
    pass
sys.stdout.write("done\\n"); sys.stdout.flush()
sys.stdin.readline()
"""


def test_meter_sees_a_childs_cpu_and_memory_per_root():
    # A parent (sleeping) whose child burns 0.3 s of CPU and holds 64 MiB: both belong to the
    # tree the meter follows from the parent's pid.
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys; "
            f"c = subprocess.Popen([sys.executable, '-c', {_CHILD!r}]); c.wait()",
        ],
        stdin=subprocess.PIPE,
    )
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        with peers.Meter([parent.pid, idle.pid], interval=0.05) as meter:
            deadline = time.monotonic() + 60
            child = None
            while child is None and time.monotonic() < deadline:
                kids = psutil.Process(parent.pid).children()
                child = kids[0] if kids else None
            assert child is not None
            while child.cpu_times().user + child.cpu_times().system < 0.3:
                time.sleep(0.05)
            time.sleep(0.2)
    finally:
        parent.kill()
        for process in psutil.Process().children(recursive=True):
            process.kill()
        parent.wait()
        idle.wait()
    assert meter.cpu_by_root[parent.pid] >= 0.3
    assert meter.cpu_by_root[idle.pid] < 0.3
    assert meter.cpu_s == pytest.approx(sum(meter.cpu_by_root.values()))
    assert meter.peak_rss >= 64 * 2**20


# Goals, table, plot


def _result(chain_ttft=108.0, peer_ttft=116.0, chain_tps=118.0, peer_tps=118.0, chain_failed=0):
    rows = peers.derive(
        [
            _row("direct", 1, 100.0, 120.0),
            _row("chain", 1, chain_ttft, chain_tps, failed=chain_failed, cpu=1.0, sent=11),
            _row("owui_ollama", 1, peer_ttft, peer_tps, cpu=2.0, sent=11),
            _row("owui_openai", 1, peer_ttft + 20, peer_tps - 5, failed=1, cpu=4.0, sent=11),
        ]
    )
    return {
        "text_chars": 800,
        "peer": {
            "name": "Open WebUI",
            "version": "0.12.4",
            "python": "3.11.7",
            "install_seconds": 252.1,
            "size_bytes": 7_638_162_058,
            "reused": True,
            "start_seconds": 39.4,
        },
        "rows": rows,
        "queue": [
            {
                "product": "chain",
                "ahead": 3,
                "headers_ms": 12.0,
                "first_seen_ms": 12.5,
                "first_seen": "queued position 2",
                "first_token_ms": 5800.0,
                "queue_updates": ["position 2", "position 1"],
                "outcome": "done",
            },
            {
                "product": "owui_ollama",
                "ahead": 3,
                "headers_ms": 5900.0,
                "first_seen_ms": 5900.0,
                "first_seen": "token",
                "first_token_ms": 5900.0,
                "queue_updates": [],
                "outcome": "done",
            },
        ],
        "kill": [
            {
                "product": "chain",
                "killed_after_tokens": 20,
                "seen_after_kill": ["error"],
                "error_after_ms": 15.0,
                "outcome": "error: upstream_unavailable: gone",
            }
        ],
        "ahead": 3,
        "kill_wait_s": 60.0,
        "meta": {
            "before": {
                "time": "2026-11-30 10:00:00 UTC",
                "cpus": 2,
                "cpu_model": "x",
                "load_1_5_15": [1.0, 1.0, 1.0],
            },
            "after": {
                "time": "2026-11-30 10:30:00 UTC",
                "cpus": 2,
                "cpu_model": "x",
                "load_1_5_15": [2.0, 2.0, 2.0],
            },
            "seconds": 1800.0,
            "quick": False,
        },
    }


def test_goals_met_against_the_peers_better_route():
    found = goals.peers(_result())
    assert [g.met for g in found] == [True, True, True]
    assert "+8.0 ms vs +16.0 ms (owui_ollama)" in found[0].measured


def test_goal_shows_a_negative_added_time_with_its_sign():
    found = goals.peers(_result(chain_ttft=95.0))
    assert found[0].measured.startswith("-5.0 ms vs +16.0 ms")
    assert found[0].met


def test_goals_missed_where_tradia_loses():
    found = goals.peers(_result(chain_ttft=120.0, chain_tps=110.0, chain_failed=2))
    assert [g.met for g in found] == [False, False, False]


def test_no_failure_goal_where_the_peer_failed_too():
    result = _result()
    for row in result["rows"]:
        if row["path"] == "owui_ollama":
            row["failed"] = 3
    assert not any("fails no request" in g.goal for g in goals.peers(result))


def test_tokens_goal_allows_the_noise_margin_only():
    assert goals.peers(_result(chain_tps=118.0 * 0.985))[1].met
    assert not goals.peers(_result(chain_tps=118.0 * 0.97))[1].met


def test_section_and_plot(tmp_path: Path):
    result = _result()
    text = report.render({"peers": result}, "")
    assert "## 6. Peers: Open WebUI on the same simulator" in text
    assert "Open WebUI 0.12.4" in text
    assert "7.6 GB" in text
    assert (
        "| rtx4090 | 1 | 1 | Tradia, whole chain with login | 10 | 0 | 108.0 / 162.0 | 8.0 / 12.0 |"
        in text
    )
    assert "| Tradia, whole chain with login | 12.0 | queued position 2 | 12.5 | 5800.0 |" in text
    assert "error: upstream_unavailable: gone" in text
    assert "| peers | rtx4090, NUM_PARALLEL 1, 1 user(s): Tradia adds less p50 TTFT" in text
    plots.PLOTS["peers"](result, tmp_path / "peers.png")
    assert (tmp_path / "peers.png").read_bytes()[:4] == b"\x89PNG"


def test_peers_is_a_part_but_not_a_default_one():
    assert "peers" in bench_main.PARTS
    assert "peers" not in bench_main.DEFAULT_PARTS


# The install


def test_pinned_reads_the_pins_and_refuses_a_loose_line(tmp_path: Path):
    assert peers_install.pinned() == {"open-webui": "0.12.4"}
    loose = tmp_path / "req.txt"
    loose.write_text("# a comment\nopen-webui>=0.12\n")
    with pytest.raises(ValueError, match="not pinned"):
        peers_install.pinned(loose)


def _fake_venv(root: Path, requirements: Path, digest: str | None = None) -> Path:
    venv = root / "open-webui"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "open-webui").write_text("#!/bin/sh\n")
    saved = {
        "venv": str(venv),
        "requirements_sha256": digest or peers_install._digest(requirements),
        "version": "0.12.4",
        "python": "3.11.7",
        "install_seconds": 200.0,
        "size_bytes": 123,
    }
    (venv / peers_install.MARKER).write_text(json.dumps(saved))
    return venv


def test_install_is_reused_when_the_pins_match(tmp_path: Path, monkeypatch):
    requirements = tmp_path / "req.txt"
    requirements.write_text("open-webui==0.12.4\n")
    _fake_venv(tmp_path, requirements)

    def no_install(*args, **kwargs):
        raise AssertionError(f"installed again: {args}")

    monkeypatch.setattr(peers_install.subprocess, "run", no_install)
    found = peers_install.ensure(requirements, root=tmp_path)
    assert found.reused
    assert (found.install_seconds, found.size_bytes) == (200.0, 123)


def test_install_is_redone_when_the_pins_changed(tmp_path: Path, monkeypatch):
    requirements = tmp_path / "req.txt"
    requirements.write_text("open-webui==0.12.4\n")
    venv = _fake_venv(tmp_path, requirements, digest="0" * 64)
    calls: list[list[str]] = []

    def fake_run(argv, **kwargs):
        calls.append([str(a) for a in argv])
        if argv[1:3] == ["-m", "venv"]:
            (Path(argv[3]) / "bin").mkdir(parents=True)
        return subprocess.CompletedProcess(argv, 0, stdout="Name: open-webui\nVersion: 0.12.4\n")

    monkeypatch.setattr(peers_install.subprocess, "run", fake_run)
    found = peers_install.ensure(requirements, root=tmp_path)
    assert not found.reused
    assert found.version == "0.12.4"
    assert any("install" in c and str(requirements) in c for c in calls)
    # The stale venv's files are gone; the new marker holds the new digest.
    assert not (venv / "bin" / "open-webui").exists()
    saved = json.loads((venv / peers_install.MARKER).read_text())
    assert saved["requirements_sha256"] == peers_install._digest(requirements)
    assert "reused" not in saved


def test_tree_size_counts_files_once(tmp_path: Path):
    (tmp_path / "a").write_bytes(b"x" * 100)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b").write_bytes(b"y" * 50)
    (tmp_path / "link").symlink_to(tmp_path / "a")
    assert peers_install.tree_size(tmp_path) == 150
