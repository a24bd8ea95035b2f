"""The worker's reconciler step: a failure is logged and waits for the next interval, a stop request is not."""

from __future__ import annotations

import pytest
from rq.exceptions import StopRequested
from service_env import Env

from inspector.service import worker as worker_module
from inspector.service.context import WorkerContext
from inspector.service.worker import InspectorWorker


def _worker(env: Env) -> InspectorWorker:
    return InspectorWorker(env.queue, WorkerContext(env.settings, env.db, env.audio))


def test_a_stop_requested_during_reconcile_reaches_rq(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    def stop(*_: object) -> None:
        raise StopRequested()  # what RQ's SIGTERM handler raises in an idle worker

    monkeypatch.setattr(worker_module, "reconcile", stop)
    with pytest.raises(StopRequested):
        _worker(env).run_maintenance_tasks()


def test_a_failed_reconcile_does_not_stop_the_worker(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(worker_module, "reconcile", fail)
    _worker(env).run_maintenance_tasks()  # logged, not raised
