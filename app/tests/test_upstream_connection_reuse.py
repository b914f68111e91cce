"""One upstream connection serves successive generations: after the `done` chunk the client
reads the stream to its end, so httpx pools the connection instead of closing it (each new
connection to the AI server costs a TCP and TLS setup, i.e. time to first token)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from tradia.tasks.translation import build_translation_request
from tradia.upstream.ollama_client import ChatOutcome, OllamaClient, build_http_client
from tradia_testkit import DEFAULT_MODEL, Simulator, make_settings


class CountingRelay:
    """A TCP relay in front of the simulator that counts the connections it accepts."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.accepted = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def _generations(upstream: str, count: int) -> list[ChatOutcome]:
    settings = make_settings(upstream)
    http = build_http_client(settings)
    client = OllamaClient(http, settings)
    outcomes: list[ChatOutcome] = []
    try:
        for n in range(count):
            request = build_translation_request(
                DEFAULT_MODEL, f"Bonjour numéro {n}, voici un texte.", "fr", "en", []
            )
            # Stop reading at the outcome, as the app's generation loop does.
            async for item in client.chat_stream(request):
                if isinstance(item, ChatOutcome):
                    outcomes.append(item)
                    break
    finally:
        await http.aclose()
    return outcomes


def test_successive_generations_share_one_connection(sim: Simulator) -> None:
    async def scenario() -> tuple[int, list[ChatOutcome]]:
        relay = CountingRelay(sim.url)
        url = await relay.start()
        try:
            outcomes = await _generations(url, 4)
        finally:
            await relay.stop()
        return relay.accepted, outcomes

    accepted, outcomes = asyncio.run(scenario())
    assert [o.done_reason for o in outcomes] == ["stop"] * 4
    assert all(o.completion_tokens > 0 for o in outcomes)
    assert accepted == 1, f"{accepted} connections for 4 generations: the stream was not drained"
