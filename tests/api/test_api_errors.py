"""The one mapping of domain errors to answers (``api.errors.inspector_error``): by ``kind``, with the
status codes, ``code`` values and fields the API has always answered."""

from __future__ import annotations

import pytest

from api.errors import KIND_STATUS, inspector_error
from inspector.errors import (
    AudioTooLong,
    CorruptAudio,
    ErrorKind,
    InspectorError,
    ModelError,
    NotAudio,
    RuleFileError,
    UnsupportedCodec,
)
from inspector.people import errors as people
from inspector.people.alerts import AlertNotFound, AlertStateError
from inspector.store.calls import CallConflict
from inspector.store.db import DatabaseError
from inspector.store.tokens import TokenError
from inspector.store.users import UserError


def test_every_kind_has_a_status() -> None:
    assert KIND_STATUS == {ErrorKind.INVALID: 422, ErrorKind.NOT_FOUND: 404, ErrorKind.CONFLICT: 409,
                           ErrorKind.UNAVAILABLE: 503}  # fmt: skip


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (people.ReviewNotFound("复核 1 不存在"), 404, "review_not_found"),
        (people.AppealNotFound("申诉 1 不存在"), 404, "appeal_not_found"),
        (people.HitNotFound("命中 9 不存在"), 404, "hit_not_found"),
        (people.NotAnalyzed("通话尚未完成分析"), 409, "not_analyzed"),
        (people.DuplicateAppeal("已申诉"), 409, "appeal_exists"),
        (people.AppealResolved("申诉已处理"), 409, "appeal_resolved"),
        (people.ReviewDone("复核已完成"), 409, "review_done"),
        (people.AppealNotAllowed("不能申诉"), 422, "appeal_not_allowed"),
        (people.InvalidReviewInput("原因不能为空"), 422, "invalid_review_input"),
        (people.TrainingNotFound("坐席 9 不存在", "agent_not_found"), 404, "agent_not_found"),
        (people.CoachingStateError("辅导任务已完成"), 409, "coaching_closed"),
        (AlertNotFound("预警 1 不存在"), 404, "alert_not_found"),
        (AlertStateError("预警已处理"), 409, "alert_state_conflict"),
        (CallConflict("通话编号已被另一录音使用"), 409, "call_id_conflict"),
        (TokenError("有效期无效"), 400, "invalid_token_request"),
        (UserError("用户名已存在"), 400, "invalid_user_request"),
        (ModelError("模型不可用"), 503, "model_error"),
    ],
)
def test_domain_errors_answer_by_kind(error: InspectorError, status: int, code: str) -> None:
    answer = inspector_error(error)
    assert (answer.status_code, answer.code, answer.detail, answer.fields) == (status, code, error.message, {})


def test_coaching_input_errors_name_the_field() -> None:
    answer = inspector_error(people.TrainingError("能力项不存在", field="competency"))
    assert (answer.status_code, answer.code, answer.fields) == (422, "invalid_coaching", {"field": "competency"})
    month = inspector_error(people.InvalidMonth("月份格式无效", "month"))
    assert (month.status_code, month.code, month.fields) == (422, "invalid_month", {"field": "month"})
    assert inspector_error(people.TrainingError("无效")).fields == {"field": None}  # present, as always


def test_recordings_answer_by_what_is_wrong_with_them() -> None:
    path = "/store/ab.wav"
    cases = ((AudioTooLong(path, "超过上限"), 413), (NotAudio(path, "不是音频"), 415),
             (UnsupportedCodec(path, "编码不支持"), 415), (CorruptAudio(path, "已损坏"), 422))  # fmt: skip
    for error, status in cases:
        answer = inspector_error(error)
        assert (answer.status_code, answer.code) == (status, error.code)
        assert answer.detail == f"录音无法使用：{error.reason}" and "/store" not in answer.detail  # no store path
        assert answer.fields == {"reason": error.reason}


def test_rule_files_name_file_line_and_rule() -> None:
    answer = inspector_error(RuleFileError("property.yaml", "缺少 name", line=3, rule_id="greet"))
    assert (answer.status_code, answer.code) == (422, "invalid_rule_file")
    assert answer.detail.startswith("规则文件无效：property.yaml:3")
    assert answer.fields == {"file": "property.yaml", "line": 3, "rule": "greet", "reason": "缺少 name"}


def test_database_errors_say_nothing_of_the_database() -> None:
    answer = inspector_error(DatabaseError("connection refused at 10.0.0.5:5432"))
    assert (answer.status_code, answer.code, answer.detail) == (503, "database_error", "数据库暂时不可用，请稍后重试")
