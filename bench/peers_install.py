"""Open WebUI's own venv for the `peers` part: installed once under $TRADIA_CACHE/peers/.

`python -m bench.peers_install` installs it ahead of a run (it takes minutes and gigabytes);
the part calls ensure(), which reuses the venv when it already holds the pinned requirements.
"""

import hashlib
import json
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.lab import cache

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-peers.txt"
MARKER = "tradia-install.json"


@dataclass(frozen=True)
class Install:
    venv: str
    requirements_sha256: str
    version: str
    python: str
    install_seconds: float
    size_bytes: int
    reused: bool

    @property
    def bin(self) -> Path:
        return Path(self.venv) / "bin"


def pinned(requirements: Path = REQUIREMENTS) -> dict[str, str]:
    """name -> version of each `name==version` line (comments and blank lines skipped)."""
    pins: dict[str, str] = {}
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not version.strip():
            raise ValueError(f"{requirements}: not pinned: {raw!r}")
        pins[name.strip().lower()] = version.strip()
    return pins


def tree_size(root: Path) -> int:
    """Bytes in the regular files under root (links not followed, not counted twice)."""
    return sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _digest(requirements: Path) -> str:
    return hashlib.sha256(requirements.read_bytes()).hexdigest()


def ensure(requirements: Path = REQUIREMENTS, root: Path | None = None) -> Install:
    """The venv holding the pinned requirements; created (timed, measured) when missing."""
    venv = (root or cache() / "peers") / "open-webui"
    marker = venv / MARKER
    digest = _digest(requirements)
    if marker.is_file():
        saved = json.loads(marker.read_text(encoding="utf-8"))
        if saved.get("requirements_sha256") == digest and (venv / "bin" / "open-webui").exists():
            return Install(**{**saved, "reused": True})
    if venv.exists():
        # A partial or outdated install: start again rather than upgrade in place.
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # Our own interpreter and the pinned requirements file: no untrusted input.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", "-r", str(requirements)], check=True)  # noqa: S603
    seconds = time.monotonic() - started
    installed = subprocess.run(  # noqa: S603
        [*pip, "show", "open-webui"], check=True, capture_output=True, text=True
    ).stdout
    version = next(
        (ln.split(":", 1)[1].strip() for ln in installed.splitlines() if ln.startswith("Version:")),
        "",
    )
    result = Install(
        venv=str(venv),
        requirements_sha256=digest,
        version=version,
        python=sys.version.split()[0],
        install_seconds=round(seconds, 1),
        size_bytes=tree_size(venv),
        reused=False,
    )
    saved = asdict(result)
    del saved["reused"]
    marker.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    done = ensure()
    print(json.dumps(asdict(done), indent=1))
