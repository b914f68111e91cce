"""LibreOffice headless, as a user's office suite: a translated document must open and convert
without error (Debian's libreoffice-*-nogui, installed by scripts/system-deps.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

SOFFICE = shutil.which("soffice") or "/usr/bin/soffice"


# The import filter of each format: forced, so that a broken file is refused instead of being
# opened as plain text (LibreOffice falls back to the text filter for what it cannot detect).
IMPORT_FILTERS = {
    ".docx": "MS Word 2007 XML",
    ".xlsx": "Calc MS Excel 2007 XML",
    ".pptx": "Impress MS PowerPoint 2007 XML",
    ".odt": "writer8",
    ".odp": "impress8",
}


def convert(document: Path, to: str, workdir: Path) -> Path:
    """Convert `document` to the format `to` (e.g. "pdf", "docx", "txt:Text") in `workdir` with
    its format's import filter, and return the result. Fails with LibreOffice's output when it
    cannot open or convert the file. Check what the result says too, not only that it exists.

    Each call has a profile of its own (-env:UserInstallation), so conversions never share or
    wait on the desktop's lock, and a broken profile never survives a test."""
    workdir.mkdir(parents=True, exist_ok=True)
    profile = workdir / "lo-profile"
    result = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            f"--infilter={IMPORT_FILTERS[document.suffix.lower()]}",
            "--convert-to",
            to,
            "--outdir",
            str(workdir / "out"),
            str(document),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HOME": str(workdir)},
        check=False,
    )
    converted = workdir / "out" / f"{document.stem}.{to.split(':', 1)[0]}"
    failure = (
        f"LibreOffice could not convert {document.name} to {to}: rc={result.returncode}\n"
        f"{result.stdout}\n{result.stderr}"
    )
    assert result.returncode == 0, failure
    # soffice exits 0 when it cannot load a file: the missing output is the failure.
    assert converted.is_file(), failure
    assert converted.stat().st_size > 0, failure
    return converted
