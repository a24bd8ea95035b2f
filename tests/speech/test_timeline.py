import pytest

from inspector.speech.timeline import Span, merge, total


def test_span_overlap_and_duration():
    a, b = Span(1.0, 3.0), Span(2.5, 4.0)
    assert a.duration == 2.0
    assert a.overlap(b) == pytest.approx(0.5)
    assert a.overlap(Span(3.0, 5.0)) == 0.0
    assert a.middle == 2.0


def test_span_rejects_negative_duration():
    with pytest.raises(ValueError):
        Span(2.0, 1.0)


def test_merge_joins_close_spans():
    spans = [Span(5, 6), Span(0, 1), Span(1.2, 2), Span(0.5, 0.8)]
    assert merge(spans) == [Span(0, 1), Span(1.2, 2), Span(5, 6)]
    assert merge(spans, gap=0.3) == [Span(0, 2), Span(5, 6)]
    assert total(spans) == pytest.approx(2.8)
