"""What the app holds for its whole life (built in the lifespan, shared by every request)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from tradia.core.config import Settings
from tradia.generation import LLMService
from tradia.glossary import GlossaryFile
from tradia.jobs.runner import JobRunner
from tradia.metrics import Metrics
from tradia.queue import GenerationQueue
from tradia.upstream.ollama_client import OllamaClient


@dataclass
class AppState:
    settings: Settings
    http: httpx.AsyncClient
    client: OllamaClient
    queue: GenerationQueue
    metrics: Metrics
    llm: LLMService
    # The terminology file, read again when it changes: take `.current` once per request.
    glossary: GlossaryFile
    # Documents being parsed, all requests together (TRADIA_PARSE_CONCURRENCY).
    parse_slots: asyncio.Semaphore
    # Document jobs: stored under TRADIA_JOBS_DIR, run in the background.
    jobs: JobRunner
