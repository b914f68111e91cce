"""`python -m tradia`: serve with uvicorn, trusting proxy headers only from the proxy's network."""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from tradia.core.config import Settings
from tradia.main import create_app


def main() -> None:
    try:
        settings = Settings()  # type: ignore[call-arg]
    except ValidationError as exc:
        # Without the input values: they may hold the key.
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}"
            for e in exc.errors(include_input=False)
        )
        sys.exit(f"tradia: invalid configuration: {problems}")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,
        access_log=False,
        log_level=settings.log_level.lower(),
        # Streams can be long; keep-alive between browser requests stays short.
        timeout_keep_alive=5,
    )


if __name__ == "__main__":
    main()
