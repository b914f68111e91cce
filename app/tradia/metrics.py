"""Prometheus metrics, on a registry owned by the app (tests build several apps per process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tradia_requests",
            "Task requests, by task and user (user is 'anonymous' without a proxy user header)",
            ["task", "user"],
            registry=self.registry,
        )
        self.tokens = Counter(
            "tradia_tokens",
            "Tokens processed by the AI server, by task, user and kind (prompt|completion)",
            ["task", "user", "kind"],
            registry=self.registry,
        )
        self.errors = Counter(
            "tradia_errors",
            "Failed generations by error kind",
            ["task", "kind"],
            registry=self.registry,
        )
        self.truncated = Counter(
            "tradia_truncated",
            "Generations cut by the token or context limit (done_reason=length)",
            ["task"],
            registry=self.registry,
        )
        self.ttft = Histogram(
            "tradia_time_to_first_token_seconds",
            "From the slot being granted to the first token",
            ["task"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_wait = Histogram(
            "tradia_queue_wait_seconds",
            "Time spent waiting for a generation slot",
            ["task"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.generation_seconds = Histogram(
            "tradia_generation_seconds",
            "Whole generation time, slot granted to last token",
            ["task"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_waiting = Gauge(
            "tradia_queue_waiting", "Requests waiting for a slot", registry=self.registry
        )
        self.generations_running = Gauge(
            "tradia_generations_running", "Generations in progress", registry=self.registry
        )
        self.ready = Gauge(
            "tradia_ready",
            "1 when the app can serve (its /readyz: the AI server answers, with the default"
            " model), else 0; set at each scrape",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
