"""Rescoring on a real Redis and the real databases: activation rescores the done calls without ASR, and
repeated requests join the one pending rescore."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from service_env import Env, NoAsr, ReferencePipeline, count_rows, get_call, reference, register, work
from sqlalchemy import select

from inspector.service import call_job, rescore
from inspector.settings import Settings
from inspector.store import rulesets
from inspector.store.schema import AgentDay, Analysis, RuleSetRecord


def _bundle_with_doubled_points(settings: Settings) -> dict[str, str]:
    files = rulesets.read_bundle(settings.rules_dir)
    data = yaml.safe_load(files["property-default.yaml"])
    data["version"] = 2
    for rule in data["rules"]:
        if "points" in rule:
            rule["points"] *= 2
    files["property-default.yaml"] = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return files


def test_activating_a_rule_set_rescores_done_calls_without_asr(env: Env, samples_dir: Path) -> None:
    call_id = register(env, samples_dir / "call02_angry_stereo.wav", "c-angry", agent_id="8002")
    call_job.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    work(env, ReferencePipeline(reference(samples_dir, "call02_angry_stereo")))
    first = get_call(env, call_id)
    assert first.status == "done"

    with env.db.session() as session:
        rule_set_a = rulesets.active_ruleset(session)
        rule_set_b, created = rulesets.add_ruleset(session, _bundle_with_doubled_points(env.settings))
        assert rule_set_a is not None and created
    assert rescore.activate_and_rescore(env.db, env.queue, env.settings, rule_set_b.id) == 1
    no_asr = NoAsr()
    work(env, no_asr)

    assert no_asr.calls == 0
    call = get_call(env, call_id)
    with env.db.session() as session:
        analyses = {a.rule_set_id: a for a in session.scalars(select(Analysis).where(Analysis.call_id == call_id))}
        day = session.scalars(select(AgentDay).where(AgentDay.agent_id == "8002")).one()
    assert set(analyses) == {rule_set_a.id, rule_set_b.id}
    assert analyses[rule_set_a.id].total == first.score
    assert analyses[rule_set_b.id].total < first.score  # the deductions doubled
    assert call.analysis_id == analyses[rule_set_b.id].id and call.score == analyses[rule_set_b.id].total
    assert call.status == "done" and call.attempts == 1
    assert day.calls == 1 and day.score_sum == call.score

    # Rescoring with a rule set that is not the active one keeps the current analysis.
    assert rescore.enqueue_rescore(env.db, env.queue, env.settings, rule_set_a.id, [call_id, "no-such-call"]) == 1
    work(env, no_asr)
    assert get_call(env, call_id).analysis_id == analyses[rule_set_b.id].id
    assert count_rows(env, Analysis, call_id) == 2

    with pytest.raises(rescore.RuleSetNotFound, match="规则集 999 不存在"):
        rescore.activate_and_rescore(env.db, env.queue, env.settings, 999)


def test_repeated_rescore_requests_join_the_one_pending_rescore(env: Env, samples_dir: Path) -> None:
    call_id = register(env, samples_dir / "call02_angry_stereo.wav", "c-angry", agent_id="8002")
    call_job.enqueue_calls(env.db, env.queue, env.settings, [call_id])
    work(env, ReferencePipeline(reference(samples_dir, "call02_angry_stereo")))
    with env.db.session() as session:
        rule_set_b, _ = rulesets.add_ruleset(session, _bundle_with_doubled_points(env.settings))
    assert env.queue.count == 0

    # Many requests, some at the same time from several threads: one job waits in the queue.
    def request(i: int) -> int:
        if i % 2:
            return rescore.activate_and_rescore(env.db, env.queue, env.settings, rule_set_b.id)
        return rescore.enqueue_rescore(env.db, env.queue, env.settings, rule_set_b.id)

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(request, range(40))) == {1}  # each request says how many calls it covers
    assert env.queue.count == 1
    assert [job.func_name for job in env.queue.get_jobs()] == ["inspector.service.rescore.rescore_ruleset"]

    no_asr = NoAsr()
    work(env, no_asr)
    assert env.queue.count == 0 and no_asr.calls == 0
    with env.db.session() as session:
        rescored = session.scalars(
            select(Analysis).where(Analysis.call_id == call_id, Analysis.rule_set_id == rule_set_b.id)
        ).all()
    assert len(rescored) == 1 and get_call(env, call_id).analysis_id == rescored[0].id

    # Once that rescore has run, a new request is a new rescore (the calls may have changed meanwhile).
    assert rescore.enqueue_rescore(env.db, env.queue, env.settings, rule_set_b.id) == 1
    assert env.queue.count == 1
    # Another rule set has its own pending rescore.
    with env.db.session() as session:
        rule_set_a = session.scalars(select(RuleSetRecord).where(RuleSetRecord.id != rule_set_b.id)).one()
    rescore.enqueue_rescore(env.db, env.queue, env.settings, rule_set_a.id)
    rescore.enqueue_rescore(env.db, env.queue, env.settings, rule_set_a.id)
    assert env.queue.count == 2
