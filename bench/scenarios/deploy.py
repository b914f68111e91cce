"""Part 3, deployment: site.yml on a fresh lab (one AI server, one app server), then again."""

from pathlib import Path
from typing import Any

from bench import lab


def run(workdir: Path, quick: bool) -> dict[str, Any]:
    lab.down()
    runs = [lab.deploy(1, workdir, "first"), lab.deploy(1, workdir, "second")]
    return {
        "runs": [
            {
                "run": label,
                "site_seconds": run.site_seconds,
                "changed": run.changed,
                "total_changed": run.total_changed,
                "failed": run.failed,
            }
            for label, run in zip(("first", "second"), runs, strict=True)
        ]
    }
