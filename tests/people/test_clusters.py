"""Cluster alerts (群体性投诉预警): the span search, on its own."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from inspector.people.clusters import cluster_span

T0 = datetime(2024, 3, 15, 8, 0)
DAY = timedelta(hours=24)


def rows(*items: tuple[str, float, str]) -> list[tuple[str, datetime, str]]:
    return [(call_id, T0 + timedelta(hours=hours), contact) for call_id, hours, contact in items]


def test_three_distinct_callers_within_the_window_make_a_cluster() -> None:
    found = rows(("a", 0, "139"), ("b", 5, "138"), ("c", 23, "137"))
    assert cluster_span(found, "c", DAY, 3) == ["a", "b", "c"]
    assert cluster_span(found, "a", DAY, 3) == ["a", "b", "c"]


def test_the_same_caller_calling_three_times_is_not_a_cluster() -> None:
    assert cluster_span(rows(("a", 0, "139"), ("b", 1, "139"), ("c", 2, "138")), "c", DAY, 3) is None


def test_callers_further_apart_than_the_window_are_not_a_cluster() -> None:
    found = rows(("a", 0, "139"), ("b", 12, "138"), ("c", 25, "137"))
    assert cluster_span(found, "c", DAY, 3) is None
    assert cluster_span(found, "c", DAY, 2) == ["b", "c"]


def test_the_span_must_contain_the_call() -> None:
    found = rows(("a", 0, "139"), ("b", 1, "138"), ("c", 2, "137"), ("late", 40, "136"))
    assert cluster_span(found, "late", DAY, 3) is None
    assert cluster_span(found, "missing", DAY, 3) is None


@given(st.lists(st.tuples(st.floats(0, 96), st.sampled_from(["a", "b", "c", "d", "e"])), min_size=1, max_size=12),
       st.integers(2, 4))  # fmt: skip
def test_a_span_found_fits_the_window_and_has_enough_callers(items: list[tuple[float, str]], callers: int) -> None:
    found = rows(*[(f"c{i}", hours, contact) for i, (hours, contact) in enumerate(items)])
    by_id = {r[0]: r for r in found}
    for call_id in by_id:
        span = cluster_span(found, call_id, DAY, callers)
        if span is None:
            continue
        times = [by_id[c][1] for c in span]
        assert call_id in span and max(times) - min(times) <= DAY
        assert len({by_id[c][2] for c in span}) >= callers
