"""The product's vocabulary: every status, level and role as a ``StrEnum``, with its Chinese label.

These are the values stored in the database and sent by the API (a ``StrEnum`` member *is* its
string, so ``AlertLevel.RED == "red"``). The labels are what users read; the web UI gets them from
``GET /api/v1/vocabulary`` (``as_json``) instead of keeping its own copies. Modules that need the
tuple of allowed values use ``values(Enum)``.
"""

from __future__ import annotations

import enum
from typing import TypeVar


class UserRole(enum.StrEnum):
    ADMIN = "admin"
    REVIEWER = "reviewer"
    TRAINER = "trainer"
    TEAM_LEAD = "team_lead"
    AGENT = "agent"


class OrgLevel(enum.StrEnum):
    """The levels of the organization hierarchy (组织架构), top to bottom (``inspector.people.org``)."""

    GROUP = "group"  # 集团
    REGION = "region"  # 区域
    PROJECT = "project"  # 项目
    TEAM = "team"  # 班组


class SpeakerRole(enum.StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"


class UtteranceFlag(enum.StrEnum):
    """Why an utterance's text deserves less trust than its words' probabilities say."""

    UNHEARD = "unheard"  # speech was detected, but the recognizer gave no text for it
    OVERLAP = "overlap"  # both parties talked at once over some of its words (mono calls)


class PiiKind(enum.StrEnum):
    """Personal data (个人信息) found in what was said on a call (``inspector.privacy.detection``)."""

    MOBILE = "mobile"
    LANDLINE = "landline"
    ID_NUMBER = "id_number"
    BANK_CARD = "bank_card"
    PLATE = "plate"
    ADDRESS = "address"
    NUMBER = "number"  # any other run of 7 or more digits: masked too


class AlertLevel(enum.StrEnum):
    """Lowest to highest (the order is the rank)."""

    NONE = "none"
    BLUE = "blue"
    YELLOW = "yellow"
    RED = "red"


class AlertKind(enum.StrEnum):
    """What raised an alert: one call's analysis, a cluster of callers (群体性投诉), a chain of repeat contacts."""

    CALL = "call"
    CLUSTER = "cluster"
    REPEAT = "repeat"


class CaseStatus(enum.StrEnum):
    """A complaint case (投诉工单), in order: 受理 → 核实 → 处理 → 反馈 → 回访 → 关闭. A 回访 whose owner is not
    satisfied goes back to 处理 (reopened); see ``inspector.people.cases``."""

    ACCEPTED = "accepted"  # 受理
    VERIFYING = "verifying"  # 核实
    HANDLING = "handling"  # 处理
    FEEDBACK = "feedback"  # 反馈
    REVISIT = "revisit"  # 回访
    CLOSED = "closed"  # 关闭


class CaseSource(enum.StrEnum):
    """What opened a case: a red alert (automatically) or a person (a reviewer from a call or an alert)."""

    ALERT = "alert"
    PERSON = "person"


class RevisitOutcome(enum.StrEnum):
    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class DeliveryStatus(enum.StrEnum):
    NONE = "none"  # no webhook configured, or below its minimum level
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class CallStatus(enum.StrEnum):
    QUEUED = "queued"  # registered, waiting for a worker
    PROCESSING = "processing"  # a worker holds it until ``lease_until``
    DONE = "done"
    FAILED = "failed"  # ``error`` says why; ``inspector retry`` / POST /calls/{id}/retry queue it again


class CallDirection(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class ReviewReason(enum.StrEnum):
    """Why a call entered the review queue (复核)."""

    RED = "red"
    FATAL = "fatal"
    UNCERTAIN = "uncertain"
    LOWEST = "lowest"
    RANDOM = "random"
    APPEAL = "appeal"
    MANUAL = "manual"


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"


class Verdict(enum.StrEnum):
    """A reviewer's verdict on one machine finding."""

    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class AppealStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class AppealDecision(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CoachingStatus(enum.StrEnum):
    ASSIGNED = "assigned"
    DONE = "done"
    CANCELLED = "cancelled"


class CalibrationStatus(enum.StrEnum):
    """A reviewer calibration round (校准): open while reviewers judge, closed when the figures are final."""

    OPEN = "open"
    CLOSED = "closed"


class CourseTier(enum.StrEnum):
    """Tiers of the course catalog (课程层级), lowest to highest; ``inspector.people.catalog`` picks one from an
    agent's 技能综合分."""

    BASIC = "basic"  # 基础层: onboarding
    ADVANCED = "advanced"  # 进阶层: skill courses
    LEADERSHIP = "leadership"  # 提升层: leadership


class CheckCategory(enum.StrEnum):
    """Categories of rules (what a rule checks)."""

    GREETING = "greeting"
    SELF_ID = "self_id"
    EMPATHY = "empathy"
    APOLOGY = "apology"
    CLOSING = "closing"
    PROHIBITED = "prohibited"
    CUSTOMER_EMOTION = "customer_emotion"
    ESCALATION = "escalation"
    SILENCE = "silence"
    INTERRUPTION = "interruption"
    SPEECH_RATE = "speech_rate"
    LATENCY = "latency"
    DURATION = "duration"
    REPETITION = "repetition"
    TOPIC = "topic"
    OTHER = "other"


LABELS: dict[type[enum.StrEnum], dict[str, str]] = {
    UserRole: {"admin": "管理员", "reviewer": "质检员", "trainer": "培训师", "team_lead": "班组长", "agent": "坐席"},
    SpeakerRole: {"agent": "坐席", "customer": "客户"},
    UtteranceFlag: {"unheard": "有语音但未识别出文字", "overlap": "与对方同时说话，部分文字可能缺失或不准"},
    PiiKind: {"mobile": "手机号", "landline": "固定电话", "id_number": "身份证号", "bank_card": "银行卡号",
              "plate": "车牌号", "address": "地址", "number": "数字串"},
    AlertLevel: {"none": "无预警", "blue": "蓝色预警", "yellow": "黄色预警", "red": "红色预警"},
    AlertStatus: {"open": "待处理", "acknowledged": "已确认", "closed": "已关闭"},
    DeliveryStatus: {"none": "未推送", "pending": "推送中", "delivered": "已推送", "failed": "推送失败"},
    CallStatus: {"queued": "排队中", "processing": "分析中", "done": "已完成", "failed": "失败"},
    CallDirection: {"inbound": "呼入", "outbound": "呼出"},
    ReviewReason: {"red": "红色预警", "fatal": "一票否决", "uncertain": "待确认的发现", "lowest": "最低分",
                   "random": "随机抽检", "appeal": "申诉", "manual": "人工指派"},
    ReviewStatus: {"pending": "待复核", "done": "已复核"},
    Verdict: {"confirmed": "已确认", "rejected": "已驳回（误报）"},
    AppealStatus: {"open": "申诉中", "accepted": "申诉成功", "rejected": "申诉驳回"},
    AppealDecision: {"accepted": "申诉成功", "rejected": "申诉驳回"},
    CoachingStatus: {"assigned": "进行中", "done": "已完成", "cancelled": "已取消"},
    CalibrationStatus: {"open": "进行中", "closed": "已结束"},
    CaseStatus: {"accepted": "受理", "verifying": "核实", "handling": "处理", "feedback": "反馈", "revisit": "回访",
                 "closed": "关闭"},
    CaseSource: {"alert": "红色预警自动立案", "person": "人工立案"},
    RevisitOutcome: {"satisfied": "满意", "unsatisfied": "不满意"},
    CourseTier: {"basic": "基础层", "advanced": "进阶层", "leadership": "提升层"},
    OrgLevel: {"group": "集团", "region": "区域", "project": "项目", "team": "班组"},
    CheckCategory: {
        "greeting": "开场问候", "self_id": "自报工号", "empathy": "共情话术", "apology": "致歉", "closing": "结束语",
        "prohibited": "服务禁语", "customer_emotion": "客户负面情绪", "escalation": "投诉升级", "silence": "长时间静音",
        "interruption": "抢话", "speech_rate": "语速过快", "latency": "回应过慢", "duration": "通话时长",
        "repetition": "重复诉求", "topic": "话题", "other": "其他",
    },
}

# Names of the vocabularies in the API (``GET /api/v1/vocabulary``).
API_NAMES: dict[type[enum.StrEnum], str] = {
    UserRole: "user_role",
    SpeakerRole: "speaker_role",
    UtteranceFlag: "utterance_flag",
    PiiKind: "pii_kind",
    AlertLevel: "alert_level",
    AlertStatus: "alert_status",
    DeliveryStatus: "delivery_status",
    CallStatus: "call_status",
    CallDirection: "call_direction",
    ReviewReason: "review_reason",
    ReviewStatus: "review_status",
    Verdict: "verdict",
    AppealStatus: "appeal_status",
    AppealDecision: "appeal_decision",
    CoachingStatus: "coaching_status",
    CalibrationStatus: "calibration_status",
    CaseStatus: "case_status",
    CaseSource: "case_source",
    RevisitOutcome: "revisit_outcome",
    CourseTier: "course_tier",
    OrgLevel: "org_level",
    CheckCategory: "check_category",
}

E = TypeVar("E", bound=enum.StrEnum)


def values(kind: type[E]) -> tuple[str, ...]:
    """The allowed values of a vocabulary, in declaration order (plain strings)."""
    return tuple(member.value for member in kind)


def label(member: enum.StrEnum | str, kind: type[enum.StrEnum] | None = None) -> str:
    """The Chinese label of ``member`` (a member, or a value of ``kind``); the value itself if unknown."""
    table = LABELS[kind if kind is not None else type(member)]  # type: ignore[index]
    return table.get(str(member), str(member))


def as_json() -> dict[str, dict[str, str]]:
    """Every vocabulary as ``{api name: {value: label}}``, in declaration order."""
    return {API_NAMES[kind]: {m.value: LABELS[kind][m.value] for m in kind} for kind in API_NAMES}
