"""Prometheus metrics of the gateway, kept in a registry per app so tests can build many apps."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Request latency: from a few ms (short clip, warm model) to the 30 s gRPC deadline.
_LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


class Metrics:
    """The gateway's counters, histograms and gauges, registered in `self.registry`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "asr_http_requests_total",
            "HTTP requests by route, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "asr_http_request_duration_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=_LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.audio_seconds = Counter("asr_audio_seconds_total", "Seconds of audio transcribed.", registry=self.registry)
        self.transcriptions = Counter(
            "asr_model_transcriptions_total",
            "Transcriptions answered, by model and the model version that answered.",
            ["model", "version"],
            registry=self.registry,
        )
        self.model_latency = Histogram(
            "asr_model_duration_seconds",
            "Time from handing an utterance to the engine to its transcript (queueing included).",
            buckets=_LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "asr_batch_size",
            "Utterances per embedded-model call (micro-batching).",
            buckets=_BATCH_SIZE_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "asr_queue_depth",
            "Requests accepted but not yet answered by the model.",
            registry=self.registry,
        )

    def observe_transcription(self, model: str, version: int | None, audio_s: float, model_s: float) -> None:
        """Count one answered transcription: its model and version, its audio, and the engine's time on it."""
        self.model_latency.observe(model_s)
        self.audio_seconds.inc(audio_s)
        self.transcriptions.labels(model, str(version)).inc()

    def track_queue_depth(self, read_depth: Callable[[], int]) -> None:
        """Make the queue-depth gauge read `read_depth()` at every scrape."""
        self.queue_depth.set_function(read_depth)
