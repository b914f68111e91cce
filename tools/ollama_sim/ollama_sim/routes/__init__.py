"""HTTP routes, one module per area of the Ollama API (plus the simulator's admin routes)."""

from starlette.requests import Request

from ollama_sim.simulator import Simulator


def simulator(request: Request) -> Simulator:
    return request.app.state.simulator
