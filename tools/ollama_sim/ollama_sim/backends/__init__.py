"""Generation backends: `scripted` (deterministic, timed by a profile) and `llama` (real)."""
