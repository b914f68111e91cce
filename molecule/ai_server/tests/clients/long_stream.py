"""Run on the app server: a chat whose chunks come every 5 s for about 95 s, through Traefik (the
test sets the simulator's slow_tokens fault first, inside Ollama's container)."""

import json
import os
import time

import httpx

auth = httpx.BasicAuth("api", os.environ["AI_KEY"])
timeout = httpx.Timeout(30, read=150)
request = {
    "model": os.environ["AI_MODEL"],
    "messages": [{"role": "user", "content": "long"}],
    "options": {"num_predict": 20},
}
with httpx.Client(
    base_url=os.environ["AI_URL"], auth=auth, verify=os.environ["AI_CA"], timeout=timeout
) as client:
    start = time.monotonic()
    with client.stream("POST", "/api/chat", json=request) as response:
        response.raise_for_status()
        lines = [json.loads(line) for line in response.iter_lines() if line]
print(json.dumps({"seconds": time.monotonic() - start, "chunks": len(lines), "last": lines[-1]}))
