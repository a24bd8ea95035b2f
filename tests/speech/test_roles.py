from inspector.speech.lexicon import Vocabulary
from inspector.speech.roles import decide_roles

VOCAB = Vocabulary(
    agent_cues=("您好", "工号", "很高兴为您服务", "请稍等"),
    customer_cues=("我家", "你们物业"),
)


def test_agent_found_from_greeting_even_when_customer_speaks_first():
    speech = {
        "S1": [(0.2, "喂？喂？"), (9.0, "我家厨房漏水了，你们物业管不管")],
        "S2": [(2.0, "您好，阳光物业客服，工号1023，很高兴为您服务"), (15.0, "好的请稍等")],
    }
    decision = decide_roles(speech, VOCAB)
    assert decision.agent_speaker == "S2"
    assert decision.confidence > 0.9


def test_no_evidence_falls_back_to_first_speaker_at_half_confidence():
    speech = {"S2": [(3.0, "嗯")], "S1": [(1.0, "喂")]}
    decision = decide_roles(speech, VOCAB)
    assert decision.agent_speaker == "S1"
    assert decision.confidence == 0.5
    assert any("先开口" in e for e in decision.evidence)


def test_configured_channel_decides_and_confidence_reports_disagreement():
    speech = {
        "left": [(0.5, "我家漏水了")],
        "right": [(0.1, "您好，工号1023，很高兴为您服务")],
    }
    decision = decide_roles(speech, VOCAB, configured_agent="left")
    assert decision.agent_speaker == "left"
    assert decision.confidence < 0.2
    assert any("不一致" in e for e in decision.evidence)
    agreeing = decide_roles(speech, VOCAB, configured_agent="right")
    assert agreeing.confidence > 0.9


def test_traditional_and_digit_forms_still_match():
    speech = {"A": [(0.0, "您好，請稍等")], "B": [(1.0, "好")]}
    assert decide_roles(speech, VOCAB).agent_speaker == "A"


def test_single_speaker():
    decision = decide_roles({"S1": [(0.0, "您好")]}, VOCAB)
    assert decision.agent_speaker == "S1"
    assert decision.confidence == 0.5


def test_no_speech_names_the_fallback_agent():
    assert decide_roles({}, VOCAB).agent_speaker == "S1"
    assert decide_roles({}, VOCAB, no_speech_agent="left").agent_speaker == "left"
    assert decide_roles({}, VOCAB, configured_agent="right", no_speech_agent="left").agent_speaker == "right"
