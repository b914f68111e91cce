"""Runs document jobs in the background, a few at a time, and tells their followers.

A job is translated by DocumentJob (one path for the jobs API and the streamed endpoint); each of
its segments takes its own turn in the generation queue, like any text task, so a long document
never blocks interactive users. Every segment's outcome is checkpointed on disk, so a job the app
was stopped in the middle of is resumed at the next start without sending a segment again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import timedelta

from starlette.concurrency import run_in_threadpool

from tradia.api.events import DocumentsEvent, Event, FileDoneEvent, ProgressEvent, QueuedEvent
from tradia.core.config import Settings
from tradia.documents.translation_job import DocumentJob
from tradia.generation import LLMService
from tradia.glossary import GlossaryFile
from tradia.jobs.models import (
    Formality,
    Job,
    JobError,
    JobEvent,
    JobFile,
    JobRecord,
    JobResult,
    JobState,
    utc_now,
)
from tradia.jobs.store import JobStore, new_id, valid_id
from tradia.upstream.errors import UpstreamError

log = logging.getLogger("tradia.jobs")

# Beyond this a batch would occupy the GPU for too long.
MAX_SEGMENTS = 3000
SWEEP_SECONDS = 60.0

JobStreamEvent = Event | JobEvent


class JobRefused(Exception):
    """The job cannot go on: its `code` and `message` become the job's error."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(code)


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        settings: Settings,
        llm: LLMService,
        glossary: GlossaryFile,
        parse_slots: asyncio.Semaphore,
    ) -> None:
        self.store = store
        self.settings = settings
        self.llm = llm
        self.glossary = glossary
        self.parse_slots = parse_slots
        self.records: dict[str, JobRecord] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._followers: dict[str, set[asyncio.Queue[JobStreamEvent]]] = {}
        self._slots = asyncio.Semaphore(settings.job_concurrency or settings.concurrency)
        self._sweeper: asyncio.Task[None] | None = None
        self._stopping = False

    # --- life -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Loads the jobs on disk, resumes the unfinished ones, deletes the expired ones."""
        await run_in_threadpool(self.store.prepare)
        records = await run_in_threadpool(self.store.load_all)
        for record in sorted(records, key=lambda r: r.job.created_at):
            if record.ephemeral:
                # Its request's stream is gone with the previous process: nobody to give it to.
                await run_in_threadpool(self.store.delete, record.job.id)
                continue
            self.records[record.job.id] = record
            if not record.job.finished:
                log.info("job_resumed", extra={"job": record.job.id})
                self._launch(record)
        self.sweep()
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def stop(self) -> None:
        """Stops every job where it is: still queued or running on disk, resumed at next start."""
        self._stopping = True
        tasks = [*self._tasks.values(), *([self._sweeper] if self._sweeper else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            self.sweep()

    def sweep(self) -> None:
        """Deletes the jobs past their expiry, inputs and result with them."""
        now = utc_now()
        for job_id, record in list(self.records.items()):
            expires = record.job.expires_at
            if expires is not None and expires <= now:
                self._forget(job_id)

    def _forget(self, job_id: str) -> None:
        self.records.pop(job_id, None)
        self.store.delete(job_id)
        log.info("job_deleted", extra={"job": job_id})

    # --- what the routes use ---------------------------------------------------------------------

    def unfinished(self, owner: str) -> int:
        return sum(
            1
            for r in self.records.values()
            if r.owner == owner and not r.ephemeral and not r.job.finished
        )

    def find(self, job_id: str, owner: str, *, ephemeral: bool = False) -> JobRecord | None:
        """The owner's job; None for an id that is malformed, unknown, someone else's, or past
        its expiry (then deleted at once rather than at the next sweep)."""
        if not valid_id(job_id):
            return None
        record = self.records.get(job_id)
        if record is None or record.owner != owner or record.ephemeral != ephemeral:
            return None
        expires = record.job.expires_at
        if expires is not None and expires <= utc_now():
            self._forget(job_id)
            return None
        return record

    def jobs_of(self, owner: str) -> list[Job]:
        self.sweep()
        mine = [r.job for r in self.records.values() if r.owner == owner and not r.ephemeral]
        return sorted(mine, key=lambda job: job.created_at, reverse=True)

    async def create(
        self,
        owner: str,
        files: list[tuple[str, bytes]],
        *,
        source: str,
        target: str,
        model: str,
        formality: Formality = "default",
        as_zip: bool = False,
        ephemeral: bool = False,
    ) -> JobRecord:
        now = utc_now()
        job = Job(
            id=new_id(),
            created_at=now,
            updated_at=now,
            source=source,
            target=target,
            model=model,
            formality=formality,
            files=[JobFile(name=name) for name, _ in files],
        )
        record = JobRecord(job=job, owner=owner, as_zip=as_zip, ephemeral=ephemeral)
        await run_in_threadpool(self.store.create, record, [data for _, data in files])
        self.records[job.id] = record
        self._launch(record)
        return record

    async def delete(self, job_id: str) -> None:
        """Cancels the job if it runs (its queued generations leave the queue), then deletes it."""
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        self.records.pop(job_id, None)
        await run_in_threadpool(self.store.delete, job_id)

    async def follow(self, record: JobRecord) -> AsyncIterator[JobStreamEvent]:
        """The job as it is now, then its events as they happen, then the job once it ends."""
        job_id = record.job.id
        # Snapshot and subscription in one step (no await between): no event falls in a gap.
        snapshot = JobEvent(job=record.job.model_copy(deep=True))
        if record.job.finished:
            yield snapshot
            return
        queue: asyncio.Queue[JobStreamEvent] = asyncio.Queue()
        self._followers.setdefault(job_id, set()).add(queue)
        try:
            yield snapshot
            while True:
                event = await queue.get()
                yield event
                if isinstance(event, JobEvent) and event.job.finished:
                    return
        finally:
            followers = self._followers.get(job_id)
            if followers is not None:
                followers.discard(queue)
                if not followers:
                    del self._followers[job_id]

    # --- running ---------------------------------------------------------------------------------

    def _launch(self, record: JobRecord) -> None:
        job_id = record.job.id
        task = asyncio.create_task(self._run(record), name=f"job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    def _publish(self, job_id: str, event: JobStreamEvent) -> None:
        for queue in self._followers.get(job_id, ()):
            queue.put_nowait(event)

    def _publish_job(self, record: JobRecord) -> None:
        self._publish(record.job.id, JobEvent(job=record.job.model_copy(deep=True)))

    def _save(self, record: JobRecord) -> None:
        record.job.updated_at = utc_now()
        self.store.save(record)

    async def _run(self, record: JobRecord) -> None:
        try:
            async with self._slots:
                await self._translate(record)
        except asyncio.CancelledError:
            if not self._stopping:
                self._finish(record, "cancelled")
            raise
        except JobRefused as exc:
            self._finish(record, "failed", JobError(code=exc.code, message=exc.message))
        except UpstreamError as exc:
            self._finish(record, "failed", JobError(code=exc.kind.value, message=exc.message))
        except Exception:
            log.exception("job_failed", extra={"job": record.job.id})
            self._finish(
                record,
                "failed",
                JobError(
                    code="generation_failed",
                    message="Tradia failed to process the documents. Try again.",
                ),
            )

    def _finish(self, record: JobRecord, state: JobState, error: JobError | None = None) -> None:
        job = record.job
        job.state = state
        job.error = error
        job.queue_position = None
        now = utc_now()
        if state != "cancelled":
            job.expires_at = now + timedelta(hours=self.settings.job_retention_hours)
        for file in job.files:
            if file.state in ("waiting", "running") and state != "done":
                file.state = "failed"
                file.error = error.message if error else "cancelled"
        try:
            self._save(record)
        except OSError:
            # Cancelled jobs are deleted next; a failed write leaves the job to be resumed.
            log.warning("job_state_unsaved", extra={"job": job.id})
        self._publish_job(record)
        log.info("job_ended", extra={"job": job.id, "state": state})

    async def _translate(self, record: JobRecord) -> None:
        job = record.job
        job.state = "running"
        job.done = 0
        job.error = None
        for file in job.files:
            file.done, file.failed_segments, file.state = 0, [], "waiting"
            file.terms_missing = []
        self._save(record)
        self._publish_job(record)
        store = self.store
        document = DocumentJob(
            llm=self.llm,
            # The terminology as it is when the job starts, for all its segments.
            glossary=self.glossary.current,
            user=record.owner,
            model=job.model,
            source=None if job.source == "auto" else job.source,
            target=job.target,
            as_zip=record.as_zip,
            max_chars=self.settings.max_chars,
            max_expanded=self.settings.max_document_expanded_bytes,
            formality=job.formality,
            on_segment=lambda number, checkpoint: store.add_checkpoint(job.id, number, checkpoint),
        )
        # Parsed only now, not while queued: a parsed document holds its whole tree in memory.
        for number, file in enumerate(job.files):
            try:
                data = await run_in_threadpool(store.read_input, job.id, number)
                document.resume[number] = await run_in_threadpool(store.checkpoints, job.id, number)
            except OSError as exc:
                raise JobRefused(
                    "interrupted",
                    f"'{file.name}' could not be read back after the app stopped"
                    f" ({exc.strerror or exc}); send it again.",
                ) from exc
            async with self.parse_slots:
                await run_in_threadpool(document.add, file.name, data)
            del data
        if all(f.document is None for f in document.files):
            raise JobRefused(
                "document_rejected", "; ".join(f"{f.name}: {f.error}" for f in document.files)
            )
        segments = sum(len(f.document.segments) for f in document.files if f.document)
        if segments > MAX_SEGMENTS:
            raise JobRefused(
                "too_many_segments",
                f"These files hold {segments} paragraphs to translate; at most {MAX_SEGMENTS}"
                " at once.",
            )
        current = 0
        async for event in document.run():
            if isinstance(event, DocumentsEvent):
                job.total = event.total
                for file, entry in zip(job.files, event.files, strict=True):
                    file.segments = entry.segments
                    if entry.error is not None:
                        file.state, file.error = "rejected", entry.error
                self._save(record)
            elif isinstance(event, QueuedEvent):
                job.queue_position = event.position
            else:
                while job.files[current].state in ("rejected", "done"):
                    current += 1
                file = job.files[current]
                if isinstance(event, ProgressEvent):
                    job.done = event.done
                    job.queue_position = None
                    file.state = "running"
                    file.done += 1
                elif isinstance(event, FileDoneEvent):
                    file.state = "done"
                    file.terms_missing = list(document.files[current].terms_missing)
                    file.failed_segments = list(event.failed)
                    file.output = event.output
                    file.note = event.note
                self._save(record)
            self._publish(job.id, event)
        package = document.package()
        await run_in_threadpool(store.write_result, job.id, package.payload)
        job.result = JobResult(
            filename=package.filename, media_type=package.media_type, size=len(package.payload)
        )
        self._finish(record, "done")
        await run_in_threadpool(store.drop_work, job.id)
