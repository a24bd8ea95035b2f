"""The vocabulary: one label per value, values as plain strings."""

from __future__ import annotations

import pytest

from inspector import vocab
from inspector.vocab import AlertLevel, CallStatus, CoachingStatus


@pytest.mark.parametrize("kind", list(vocab.LABELS))
def test_every_member_has_exactly_one_label(kind) -> None:
    assert set(vocab.LABELS[kind]) == set(vocab.values(kind)), kind.__name__
    assert all(label.strip() for label in vocab.LABELS[kind].values())
    assert kind in vocab.API_NAMES


def test_members_are_their_strings() -> None:
    assert AlertLevel.RED == "red" and f"{CallStatus.DONE}" == "done"
    assert vocab.values(AlertLevel) == ("none", "blue", "yellow", "red")  # the order is the rank


def test_labels() -> None:
    assert vocab.label(CoachingStatus.CANCELLED) == "已取消"
    assert vocab.label("yellow", AlertLevel) == "黄色预警"
    assert vocab.label("unknown", AlertLevel) == "unknown"
    assert vocab.as_json()["user_role"]["team_lead"] == "班组长"
