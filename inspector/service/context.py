"""The worker process's context: what jobs use (settings, database, audio store, speech models,
analyzers), found by ``current_context`` since RQ jobs receive only ids."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from inspector.qa.analysis import Analyzer
from inspector.settings import Settings
from inspector.speech.transcript import Transcript
from inspector.store import rulesets
from inspector.store.blobs import AudioStore, LocalAudioStore
from inspector.store.db import Database
from inspector.store.ruleset_cache import RULESETS
from inspector.store.schema import RuleSetRecord


class Transcriber(Protocol):
    """What a job needs of ``inspector.speech.pipeline.SpeechPipeline``."""

    def transcribe(self, path: str | Path) -> Transcript: ...


@dataclass
class WorkerContext:
    """What jobs use in a worker process: settings, database, audio store, speech models, analyzers.

    Jobs receive only ids; they find everything else here. The speech pipeline is created on first use
    (or given, e.g. by tests) and kept for the life of the process, as is one ``Analyzer`` per rule set.
    """

    settings: Settings
    db: Database
    audio: AudioStore
    pipeline: Transcriber | None = None
    _analyzers: dict[int, Analyzer] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerContext:
        return cls(settings, Database(settings.database), LocalAudioStore(settings.audio_store_dir))

    def speech(self) -> Transcriber:
        """The speech pipeline, loaded once per process."""
        if self.pipeline is None:
            from inspector.speech.pipeline import SpeechPipeline

            self.pipeline = SpeechPipeline(self.settings)
        return self.pipeline

    def analyzer(self, record: RuleSetRecord) -> Analyzer:
        """The analyzer of ``record``: its rule set compiled once per process (the store's rule-set cache),
        its bundle materialized under ``data_dir/rulesets`` for the vocabulary and emotion lexicon."""
        analyzer = self._analyzers.get(record.id)
        if analyzer is None:
            folder = rulesets.materialize(record, self.settings.data_dir / "rulesets")
            analyzer = Analyzer(self.settings, folder, compiled=RULESETS.get(record).compiled)
            self._analyzers[record.id] = analyzer
        return analyzer

    def close(self) -> None:
        self.db.dispose()


_context: WorkerContext | None = None
_context_lock = threading.Lock()


@contextmanager
def use_context(context: WorkerContext) -> Iterator[WorkerContext]:
    """Make ``context`` the one jobs of this process use (the previous one is restored afterwards)."""
    global _context
    previous = _context
    _context = context
    try:
        yield context
    finally:
        _context = previous


def current_context() -> WorkerContext:
    """The process's context; a job run by a plain ``rq worker`` builds one from ``Settings()``."""
    global _context
    with _context_lock:
        if _context is None:
            _context = WorkerContext.from_settings(Settings())
        return _context
