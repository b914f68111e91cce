"""Run on the app server: the official Ollama client lists the models and streams a chat."""

import json
import os

import httpx
import ollama

client = ollama.Client(
    host=os.environ["AI_URL"],
    auth=httpx.BasicAuth("api", os.environ["AI_KEY"]),
    verify=os.environ["AI_CA"],
)
names = [m.model for m in client.list().models]
messages = [{"role": "user", "content": "Bonjour"}]
chunks = list(client.chat(model=os.environ["AI_MODEL"], messages=messages, stream=True))
final = chunks[-1]
print(
    json.dumps(
        {
            "models": names,
            "chunks": len(chunks),
            "done": final.done,
            "done_reason": final.done_reason,
            "eval_count": final.eval_count,
            "total_duration": final.total_duration,
        }
    )
)
