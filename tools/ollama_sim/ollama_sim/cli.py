"""`ollama-sim serve ...` and `ollama-sim catalog ...`.

Every option can also come from the environment, under Ollama's variable names where Ollama has
one (OLLAMA_HOST, OLLAMA_NUM_PARALLEL, ...) and OLLAMA_SIM_* otherwise; options win.
"""

import argparse
import logging
import sys
from collections.abc import Sequence

import uvicorn

from ollama_sim.app import build_app
from ollama_sim.catalog import ensure_catalog
from ollama_sim.settings import Settings, SettingsError, load_settings, parse_host
from ollama_sim.simulator import make_backend


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ollama-sim", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the Ollama-compatible server")
    serve.add_argument("--host", help="bind address (OLLAMA_HOST host part)")
    serve.add_argument("--port", help="bind port (OLLAMA_HOST port part)")
    serve.add_argument("--backend", help="scripted | llama (OLLAMA_SIM_BACKEND)")
    serve.add_argument("--profile", help="instant | rtx4090 | l40s | l4 (OLLAMA_SIM_PROFILE)")
    serve.add_argument("--models-dir", help="model store (OLLAMA_MODELS)")
    serve.add_argument("--catalog-dir", help="catalog pulled from (OLLAMA_SIM_CATALOG)")
    serve.add_argument(
        "--preload", help="models to pull at start, comma-separated (OLLAMA_SIM_PRELOAD)"
    )
    serve.add_argument("--num-parallel", help="slots per model (OLLAMA_NUM_PARALLEL)")
    serve.add_argument("--max-queue", help="waiting requests before 503 (OLLAMA_MAX_QUEUE)")
    serve.add_argument("--keep-alive", help="default keep_alive (OLLAMA_KEEP_ALIVE)")
    serve.add_argument("--context-length", help="default num_ctx (OLLAMA_CONTEXT_LENGTH)")
    serve.add_argument("--log-level", default="info", help="uvicorn log level")
    catalog = commands.add_parser("catalog", help="build the catalog now (for images)")
    catalog.add_argument("--catalog-dir", help="where (OLLAMA_SIM_CATALOG)")
    return parser


def _host_override(args: argparse.Namespace) -> str | None:
    if args.host is None and args.port is None:
        return None
    settings = load_settings(overrides={})
    host, port = args.host or settings.host, args.port or str(settings.port)
    parse_host(f"{host}:{port}")
    return f"{host}:{port}"


def settings_from_args(args: argparse.Namespace) -> Settings:
    return load_settings(
        overrides={
            "OLLAMA_HOST": _host_override(args),
            "OLLAMA_SIM_BACKEND": args.backend,
            "OLLAMA_SIM_PROFILE": args.profile,
            "OLLAMA_MODELS": args.models_dir,
            "OLLAMA_SIM_CATALOG": args.catalog_dir,
            "OLLAMA_SIM_PRELOAD": args.preload,
            "OLLAMA_NUM_PARALLEL": args.num_parallel,
            "OLLAMA_MAX_QUEUE": args.max_queue,
            "OLLAMA_KEEP_ALIVE": args.keep_alive,
            "OLLAMA_CONTEXT_LENGTH": args.context_length,
        }
    )


def serve(settings: Settings, log_level: str = "info") -> None:
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    uvicorn.run(
        build_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        timeout_graceful_shutdown=5,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "catalog":
            settings = load_settings(overrides={"OLLAMA_SIM_CATALOG": args.catalog_dir})
            store = ensure_catalog(settings.catalog_dir)
            for model in store.models():
                print(f"{model.name.display}\t{model.size}\tsha256:{model.digest}")
            return 0
        settings = settings_from_args(args)
        # Fail now, not at the first request, when the backend cannot load.
        make_backend(settings)
    except SettingsError as error:
        print(f"ollama-sim: error: {error}", file=sys.stderr)
        return 2
    serve(settings, args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
