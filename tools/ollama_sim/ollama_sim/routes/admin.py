"""The simulator's own routes, outside /api so no Ollama client ever hits them by accident."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_sim.faults import FaultError, parse_fault
from ollama_sim.request_body import read_json
from ollama_sim.responses import ApiError, error_response, json_response
from ollama_sim.routes import simulator


async def get_fault(request: Request) -> Response:
    return json_response(simulator(request).faults.describe())


async def set_fault(request: Request) -> Response:
    sim = simulator(request)
    try:
        fault = parse_fault(await read_json(request, "Fault"))
    except ApiError as error:
        return error_response(error.status, error.message)
    except FaultError as error:
        return error_response(400, str(error))
    sim.faults.set(fault)
    return json_response(sim.faults.describe())


async def clear_fault(request: Request) -> Response:
    sim = simulator(request)
    sim.faults.set(None)
    return json_response(sim.faults.describe())


async def stats(request: Request) -> Response:
    """Scheduler counters, for tests and the lab: what a client cannot see from outside."""
    scheduler = simulator(request).scheduler
    counters = scheduler.stats
    return json_response(
        {
            "waiting": scheduler.waiting,
            "active": {runner.key: runner.active for runner in scheduler.runners.values()},
            "max_active": counters.max_active,
            "completed": counters.completed,
            "canceled_waiting": counters.canceled_waiting,
            "canceled_running": counters.canceled_running,
            "rejected_busy": counters.rejected_busy,
            "loads": counters.loads,
            "streamed_tokens": counters.streamed_tokens,
            "prompt_tokens": counters.prompt_tokens,
            "eval_tokens": counters.eval_tokens,
        }
    )


ROUTES = [
    Route("/_sim/fault", get_fault, methods=["GET"]),
    Route("/_sim/fault", set_fault, methods=["POST"]),
    Route("/_sim/fault", clear_fault, methods=["DELETE"]),
    Route("/_sim/stats", stats, methods=["GET"]),
]
