"""An Ollama-API-compatible server for tests, the local lab and benchmarks."""

# The Ollama release whose API this simulator follows (docs/ollama-api.md).
OLLAMA_VERSION = "0.12.6"
