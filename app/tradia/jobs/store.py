"""Jobs on disk: one directory per job under TRADIA_JOBS_DIR.

    <id>/state.json           the JobRecord, replaced atomically (temp file + os.replace)
    <id>/inputs/<n>           the uploaded files, in the order of job.files
    <id>/checkpoints/<n>.jsonl one line per segment of file n already translated
    <id>/result               the translated file or ZIP, once done

Everything here is blocking file I/O: callers on the event loop run the large writes in a thread.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from tradia.api.events import SegmentFailure
from tradia.jobs.models import JobRecord

log = logging.getLogger("tradia.jobs")

# secrets.token_urlsafe(16): 22 characters of the URL-safe alphabet. Anything else is refused
# before a path is built from it.
_ID = re.compile(r"[A-Za-z0-9_-]{22}")


def new_id() -> str:
    return secrets.token_urlsafe(16)


def valid_id(job_id: str) -> bool:
    return _ID.fullmatch(job_id) is not None


@dataclass
class Checkpoint:
    """One segment already done: the model's answer (None when it failed), and why it failed."""

    index: int
    answer: str | None
    failure: SegmentFailure | None = None

    def to_line(self) -> str:
        failure = self.failure.model_dump(mode="json") if self.failure else None
        return json.dumps({"index": self.index, "answer": self.answer, "failure": failure})

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        data = json.loads(line)
        failure = data.get("failure")
        return cls(
            index=int(data["index"]),
            answer=data.get("answer"),
            failure=SegmentFailure.model_validate(failure) if failure else None,
        )


def _write_atomic(path: Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class JobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def prepare(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            probe = self.root / ".writable"
            probe.touch()
            probe.unlink()
        except OSError as exc:
            # At start-up, so the operator reads what to fix instead of a traceback.
            raise RuntimeError(
                f"TRADIA_JOBS_DIR {self.root} cannot hold document jobs"
                f" ({exc.strerror or exc}): mount a directory the app's user can write there,"
                " or point TRADIA_JOBS_DIR at one"
            ) from exc

    def _dir(self, job_id: str) -> Path:
        if not valid_id(job_id):
            raise ValueError("invalid job id")
        return self.root / job_id

    def create(self, record: JobRecord, inputs: list[bytes]) -> None:
        directory = self._dir(record.job.id)
        (directory / "inputs").mkdir(parents=True, mode=0o700)
        (directory / "checkpoints").mkdir(mode=0o700)
        for number, data in enumerate(inputs):
            (directory / "inputs" / str(number)).write_bytes(data)
        # Last: a directory without a state file is an upload cut short, not a job.
        self.save(record)

    def save(self, record: JobRecord) -> None:
        path = self._dir(record.job.id) / "state.json"
        _write_atomic(path, record.model_dump_json().encode("utf-8"))

    def load_all(self) -> list[JobRecord]:
        """Every readable job; a directory that holds none (cut short, unreadable) is removed."""
        records = []
        for directory in sorted(self.root.iterdir()) if self.root.is_dir() else []:
            if not directory.is_dir() or not valid_id(directory.name):
                continue
            try:
                record = JobRecord.model_validate_json((directory / "state.json").read_bytes())
            except (OSError, ValidationError) as exc:
                log.warning("job_unreadable", extra={"job": directory.name, "reason": str(exc)})
                shutil.rmtree(directory, ignore_errors=True)
                continue
            if record.job.id != directory.name:
                shutil.rmtree(directory, ignore_errors=True)
                continue
            records.append(record)
        return records

    def read_input(self, job_id: str, number: int) -> bytes:
        return (self._dir(job_id) / "inputs" / str(number)).read_bytes()

    def checkpoints(self, job_id: str, number: int) -> dict[int, Checkpoint]:
        path = self._dir(job_id) / "checkpoints" / f"{number}.jsonl"
        done: dict[int, Checkpoint] = {}
        if not path.exists():
            return done
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                checkpoint = Checkpoint.from_line(line)
            except (ValueError, KeyError, ValidationError):
                # A line cut by a crash: that segment is simply translated again.
                continue
            done[checkpoint.index] = checkpoint
        return done

    def add_checkpoint(self, job_id: str, number: int, checkpoint: Checkpoint) -> None:
        path = self._dir(job_id) / "checkpoints" / f"{number}.jsonl"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(checkpoint.to_line() + "\n")

    def write_result(self, job_id: str, payload: bytes) -> None:
        _write_atomic(self._dir(job_id) / "result", payload)

    def result_path(self, job_id: str) -> Path:
        return self._dir(job_id) / "result"

    def drop_work(self, job_id: str) -> None:
        """The inputs and checkpoints, once the result is written: only the result is kept."""
        directory = self._dir(job_id)
        shutil.rmtree(directory / "inputs", ignore_errors=True)
        shutil.rmtree(directory / "checkpoints", ignore_errors=True)

    def delete(self, job_id: str) -> None:
        shutil.rmtree(self._dir(job_id), ignore_errors=True)
