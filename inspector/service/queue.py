"""The RQ queue on Redis: the connection, the queue, each job's timeout and the retry policy.

A call's job may take ``timeout_base_s + timeout_per_audio_s`` x its recording's seconds (``job_timeout``);
RQ's death penalty (SIGALRM) enforces it in the worker process. A failed job is retried by RQ after
``settings.queue.backoff_s``, ``settings.queue.retries`` times at most. Calls already tried count against
the retries of a new job (``retry_policy``), so a call is attempted at most ``retries + 1`` times however
it got back to the queue.
"""

from __future__ import annotations

import math

import redis
from rq import Queue, Retry

from inspector.settings import Settings

# Job timeout when the duration is unknown: assume the densest common recording, 8 kHz 16-bit mono.
WORST_CASE_BYTES_PER_S = 16000
# Calls read / written / enqueued per database statement or Redis pipeline.
BATCH = 1000


def connect_redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def make_queue(settings: Settings, connection: redis.Redis) -> Queue:
    return Queue(settings.queue.name, connection=connection, default_timeout=settings.queue.timeout_base_s)


def job_timeout(settings: Settings, duration_s: float | None, audio_bytes: int) -> int:
    """Seconds one call may take: ``timeout_base_s + timeout_per_audio_s`` x recording seconds.

    Without a known duration, the duration is estimated from the size as if the file were 8 kHz 16-bit
    mono PCM (larger than any common recording per byte, so the timeout is generous). It is capped at
    the longest recording accepted.
    """
    if duration_s is None or duration_s <= 0:
        duration_s = audio_bytes / WORST_CASE_BYTES_PER_S
    duration_s = min(duration_s, settings.audio.max_duration_s)
    q = settings.queue
    return math.ceil(q.timeout_base_s + q.timeout_per_audio_s * duration_s)


def retry_policy(settings: Settings, attempts: int) -> Retry | None:
    """RQ retries left to a call that has already been attempted ``attempts`` times."""
    left = settings.queue.retries - attempts
    if left <= 0:
        return None
    return Retry(max=left, interval=list(settings.queue.backoff_s) or [0])
