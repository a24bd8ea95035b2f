"""Reviewer calibration (校准): a round in the list, a round's page (calls and hits to judge, verdicts as the
asker may see them, progress) and its agreement per rule, with the builders from
``inspector.people.calibration`` results."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import Number
from api.state import AppState
from inspector.people.calibration import Agreement, Disagreement, RoundView, RuleAgreement
from inspector.privacy.masking import mask_text
from inspector.store.schema import CalibrationRound
from inspector.vocab import CalibrationStatus, Verdict


class RoundOut(BaseModel):
    id: int
    name: str
    status: CalibrationStatus
    created_by: str
    created_at: str | None
    closed_at: str | None
    reviewers: list[str] = Field(description="指派的质检员（用户名）")
    calls: int = Field(description="通话数")


class RoundList(BaseModel):
    items: list[RoundOut]


class RoundHitOut(BaseModel):
    index: int = Field(description="在冻结的分析结果 hits 中的位置")
    rule_id: str
    name: str = Field(description="规则名称")
    text: str | None
    start: Number | None
    end: Number | None
    points: Number | None
    verdicts: dict[str, Verdict] = Field(
        description="质检员 → 结论；进行中时质检员只看到自己的结论（盲评），管理员看到全部"
    )


class RoundCallOut(BaseModel):
    call_id: str
    agent_id: str
    analysis_id: int = Field(description="创建校准时冻结的分析")
    hits: list[RoundHitOut]


class ProgressOut(BaseModel):
    reviewer: str
    judged: int = Field(description="已判定的命中数")
    total: int = Field(description="本轮命中总数")


class RoundDetailOut(RoundOut):
    assigned: bool = Field(description="提问者是否为本轮指派的质检员")
    call_list: list[RoundCallOut]
    progress: list[ProgressOut] = Field(description="各质检员进度（仅管理员可见，其他人为空列表）")


class DisagreementOut(BaseModel):
    call_id: str
    hit_index: int
    rule_id: str
    text: str | None
    verdicts: dict[str, Verdict] = Field(description="质检员 → 结论")


class RuleAgreementOut(BaseModel):
    rule_id: str = Field(description="规则编号；* 为全部规则合计")
    name: str
    hits: int = Field(description="所有质检员都判定过的命中数")
    agreed: int = Field(description="其中结论一致的命中数")
    percent: float | None = Field(description="一致率 agreed / hits（0-1）；无命中时为 null")
    cohen_kappa: float | None = Field(description="Cohen's kappa（恰好 2 名质检员时）；无法计算时为 null")
    fleiss_kappa: float | None = Field(description="Fleiss' kappa；无法计算（如只有一种结论）时为 null")


class AgreementOut(BaseModel):
    round: RoundOut
    reviewers: list[str]
    overall: RuleAgreementOut
    rules: list[RuleAgreementOut]
    disagreements: list[DisagreementOut] = Field(description="结论不一致的命中")


# --- builders ------------------------------------------------------------------------------------


def round_out(state: AppState, row: CalibrationRound, calls: int, reviewers: list[str]) -> RoundOut:
    return RoundOut(id=row.id, name=row.name, status=row.status, created_by=row.created_by,
                    created_at=state.local_iso(row.created_at), closed_at=state.local_iso(row.closed_at),
                    reviewers=reviewers, calls=calls)  # fmt: skip


def detail_out(state: AppState, view: RoundView, assigned: bool, progress: bool) -> RoundDetailOut:
    calls = [
        RoundCallOut(call_id=c.call.id, agent_id=c.call.agent_id, analysis_id=c.analysis_id, hits=[
            RoundHitOut(index=h.index, rule_id=h.hit["rule_id"], name=h.name, text=_masked(h.hit.get("text")),
                        start=h.hit.get("start"), end=h.hit.get("end"), points=h.hit.get("points"),
                        verdicts=h.verdicts)
            for h in c.hits
        ])
        for c in view.calls
    ]  # fmt: skip
    base = round_out(state, view.round, len(view.calls), view.reviewers)
    shown = (
        [ProgressOut(reviewer=p.reviewer, judged=p.judged, total=p.total) for p in view.progress] if progress else []
    )
    return RoundDetailOut(**dict(base), assigned=assigned, call_list=calls, progress=shown)


def _rule_out(rule: RuleAgreement) -> RuleAgreementOut:
    return RuleAgreementOut(rule_id=rule.rule_id, name=rule.name, hits=rule.hits, agreed=rule.agreed,
                            percent=rule.percent, cohen_kappa=rule.cohen, fleiss_kappa=rule.fleiss)  # fmt: skip


def _disagreement_out(item: Disagreement) -> DisagreementOut:
    return DisagreementOut(call_id=item.call_id, hit_index=item.hit_index, rule_id=item.rule_id,
                           text=_masked(item.text), verdicts=item.verdicts)  # fmt: skip


def agreement_out(state: AppState, result: Agreement) -> AgreementOut:
    return AgreementOut(
        round=round_out(state, result.round, result.calls, result.reviewers),
        reviewers=result.reviewers,
        overall=_rule_out(result.overall),
        rules=[_rule_out(rule) for rule in result.rules],
        disagreements=[_disagreement_out(d) for rule in result.rules for d in rule.disagreements],
    )


def _masked(text: str | None) -> str | None:
    """The words of a finding with personal data masked (``inspector.privacy``)."""
    return None if text is None else mask_text(text)
