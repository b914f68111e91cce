"""Test support shipped with the simulator (as moto ships its server): everything a test needs
to stand up an Ollama endpoint and what usually sits in front of it.

- `free_port`, `wait_until`, `http_status`: a port to listen on, a bounded wait for readiness;
- `ThreadedSimulator` (`ThreadedServer` for any ASGI app): the simulator served by uvicorn in a
  thread of the test process;
- `ServerProcess`: any server command (`ollama-sim serve`, `traefik`...) in its own session,
  its output in a log file, its whole process group stopped at the end;
- `make_pki`: a throwaway CA and server certificate (the key types internal_ca issues).

Used by the simulator's own tests, tests/, app/tests and bench/: an installed package is the one
place all four import from without sys.path edits. `make_pki` needs the `testing` extra
(cryptography), which the repository's .venv has.
"""

from ollama_sim.testing.pki import Pki, make_pki
from ollama_sim.testing.ports import free_port, http_status, wait_until
from ollama_sim.testing.process import ServerProcess
from ollama_sim.testing.server import ThreadedServer, ThreadedSimulator, simulator_settings

__all__ = [
    "Pki",
    "ServerProcess",
    "ThreadedServer",
    "ThreadedSimulator",
    "free_port",
    "http_status",
    "make_pki",
    "simulator_settings",
    "wait_until",
]
