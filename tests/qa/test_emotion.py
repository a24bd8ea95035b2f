import json
from pathlib import Path

import pytest

from inspector.errors import ModelError, RuleFileError
from inspector.qa.emotion.classifier import TransformersBackend
from inspector.qa.emotion.lexicon import LABELS, EmotionLexicon, load_emotion_lexicon
from inspector.qa.emotion.scorer import LexiconBackend, call_emotion, utterance_emotion
from inspector.qa.rules.loader import load_ruleset
from inspector.settings import PROJECT_ROOT
from inspector.speech.lexicon import load_vocabulary
from inspector.speech.transcript import Diarization, Transcript, Utterance

LEXICON_FILE = PROJECT_ROOT / "rules" / "emotion.yaml"
SAMPLES = PROJECT_ROOT / "samples" / "calls"
ANGRY_CALLS = {"call02_angry_stereo", "call06_elevator_mono"}


@pytest.fixture(scope="module")
def lexicon() -> EmotionLexicon:
    return load_emotion_lexicon(LEXICON_FILE)


def score(text: str, lexicon: EmotionLexicon) -> float:
    return utterance_emotion(text, lexicon).score


# --------------------------------------------------------------------------- lexicon file


def test_lexicon_file_validates(lexicon: EmotionLexicon):
    assert lexicon.id and lexicon.version >= 1
    assert lexicon.negative["气死"] == ("愤怒", 3)
    assert lexicon.negative["投诉"][1] == 1
    assert "满意" in lexicon.positive
    assert "不" in lexicon.negators
    assert lexicon.degree["有点"] < 1 < lexicon.degree["太"]


def test_other_loaders_ignore_the_lexicon_file():
    assert load_vocabulary(PROJECT_ROOT / "rules").hotwords
    assert load_ruleset(PROJECT_ROOT / "rules").rules


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "emo.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = (
    "kind: emotion_lexicon\nid: t\nversion: 1\n"
    "negative:\n  愤怒:\n    生气: 2\n"
    "positive:\n  满意: 2\n"
    "negators: [不]\n"
    "degree:\n  太: 1.5\n"
)


def test_minimal_lexicon_loads(tmp_path: Path):
    lex = load_emotion_lexicon(_write(tmp_path, GOOD))
    assert utterance_emotion("太生气", lex).score == -3.0


@pytest.mark.parametrize(
    ("broken", "line", "field"),
    [
        (GOOD.replace("生气: 2", "生气: 5"), 6, "negative.愤怒.生气"),
        (GOOD.replace("愤怒:", "暴躁:"), 5, "暴躁"),
        (GOOD.replace("太: 1.5", "太: big"), 11, "degree.太"),
        (GOOD.replace("negators: [不]", "negators: 不"), 9, "negators"),
        (GOOD.replace("kind: emotion_lexicon", "kind: ruleset"), 1, "kind"),
        (GOOD + "extra: 1\n", 12, "extra"),
        (GOOD.replace("生气: 2", "生气: [2"), None, "YAML"),
    ],
)
def test_broken_lexicon_names_file_line_and_field(tmp_path: Path, broken: str, line: int | None, field: str):
    path = _write(tmp_path, broken)
    with pytest.raises(RuleFileError) as info:
        load_emotion_lexicon(path)
    message = str(info.value)
    assert str(path) in message
    assert field in message
    if line is not None:
        assert info.value.line == line, message
    else:
        assert info.value.line is not None
    assert "\n" not in message


def test_missing_lexicon_file_names_it(tmp_path: Path):
    with pytest.raises(RuleFileError, match=r"nope\.yaml"):
        load_emotion_lexicon(tmp_path / "nope.yaml")


# --------------------------------------------------------------------------- one utterance


def test_negation(lexicon: EmotionLexicon):
    assert score("我很满意", lexicon) > 0
    assert score("我不满意", lexicon) < 0
    assert score("不太满意", lexicon) < 0
    assert score("我很生气", lexicon) < 0
    assert score("我不生气", lexicon) >= 0
    assert utterance_emotion("我不生气", lexicon).label != "愤怒"


def test_negator_does_not_cross_clauses(lexicon: EmotionLexicon):
    assert score("没有其他问题了，谢谢", lexicon) > 0


def test_degree(lexicon: EmotionLexicon):
    assert score("太过分了", lexicon) < score("过分", lexicon) < 0
    assert score("生气", lexicon) < score("有点生气", lexicon) < 0
    assert score("非常满意", lexicon) > score("满意", lexicon) > 0


def test_exclamation_adds_a_little(lexicon: EmotionLexicon):
    plain, loud = utterance_emotion("太过分了", lexicon), utterance_emotion("太过分了！", lexicon)
    assert loud.intensity > plain.intensity
    assert loud.intensity - plain.intensity < 1
    assert utterance_emotion("你好！", lexicon).label == "平静"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("气死我了！", "愤怒"),
        ("我真的太失望了", "失望"),
        ("我很着急", "焦虑"),
        ("我对你们的服务不满意", "不满"),
        ("我家住三号楼", "平静"),
        ("好的，辛苦了", "正面"),
    ],
)
def test_labels(lexicon: EmotionLexicon, text: str, label: str):
    result = utterance_emotion(text, lexicon)
    assert result.label == label, result
    assert result.label in LABELS
    assert result.intensity == abs(result.score)


def test_hits_name_the_words(lexicon: EmotionLexicon):
    assert utterance_emotion("太过分了！我要投诉你们", lexicon).hits == ["太过分", "投诉"]
    assert utterance_emotion("我不生气", lexicon).hits == ["不生气"]


def test_tokenizer_is_dedicated_and_built_once(lexicon: EmotionLexicon):
    import jieba

    assert lexicon.tokenizer() is lexicon.tokenizer()
    assert lexicon.tokenizer() is not jieba.dt
    assert "气死我了" in lexicon.tokenize("气死我了！")
    # jieba's own dictionary has 很着急 as one word; the modifier is split off so 很 still counts.
    assert lexicon.tokenize("我很着急") == ["我", "很", "着急"]
    assert lexicon.tokenize("麻烦你了") == ["麻烦", "你", "了"]


# --------------------------------------------------------------------------- whole call


def _call(*customer_lines: str) -> Transcript:
    utterances = []
    for i, text in enumerate(customer_lines):
        utterances.append(Utterance(start=10.0 * i, end=10.0 * i + 3, speaker="a", role="agent", text="您好。"))
        utterances.append(Utterance(start=10.0 * i + 4, end=10.0 * i + 8, speaker="c", role="customer", text=text))
    diarization = Diarization(method="channels", role_confidence=1.0, agent_speaker="a", speakers=["a", "c"])
    return Transcript(
        file="t.wav", duration_s=10.0 * len(customer_lines), channels=2, sample_rate=8000,
        utterances=utterances, diarization=diarization,
    )  # fmt: skip


def test_calm_to_angry_gets_worse(lexicon: EmotionLexicon):
    result = call_emotion(_call("你好，我家水管漏了。", "我是三号楼的。", "太过分了！气死我了！"), lexicon)
    assert result.trajectory == "恶化"
    assert result.negative
    assert result.peak is not None and result.peak.start == 24.0 and result.peak.label == "愤怒"
    assert [u.role for u in result.utterances] == ["customer"] * 3


def test_angry_to_calm_gets_better(lexicon: EmotionLexicon):
    result = call_emotion(_call("我真的很生气！", "房号是一零二。", "好的，谢谢，辛苦了。"), lexicon)
    assert result.trajectory == "好转"
    assert result.start_score < 0 < result.end_score


def test_calm_call_is_steady_and_not_negative(lexicon: EmotionLexicon):
    result = call_emotion(_call("我想问一下物业费。", "好的。"), lexicon)
    assert result.trajectory == "平稳"
    assert not result.negative
    assert result.peak is None


def test_call_without_customer(lexicon: EmotionLexicon):
    transcript = _call()
    result = call_emotion(transcript, lexicon)
    assert result.utterances == [] and not result.negative and result.trajectory == "平稳"


def test_to_dict_keys(lexicon: EmotionLexicon):
    data = call_emotion(_call("有点担心。", "太过分了！"), lexicon).to_dict()
    assert set(data) == {"customer_negative", "peak", "start", "end", "trajectory", "utterances"}
    assert set(data["utterances"][0]) == {"start", "end", "role", "score", "label", "hits"}
    json.dumps(data, ensure_ascii=False)


def test_explicit_backend_is_used(lexicon: EmotionLexicon):
    result = call_emotion(_call("太过分了！"), lexicon, backend=LexiconBackend(lexicon))
    assert result.negative


def test_reference_calls(lexicon: EmotionLexicon):
    results = {}
    for path in sorted(SAMPLES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        emotion = call_emotion(Transcript.from_dict(data), lexicon)
        results[path.stem] = emotion
    assert len(results) == 7
    summary = "\n".join(
        f"{name}: negative={e.negative} peak={e.peak.score if e.peak else None} "
        f"start={e.start_score} end={e.end_score} {e.trajectory} "
        f"{[(u.score, u.label, u.hits) for u in e.utterances]}"
        for name, e in results.items()
    )
    negative = {name for name, e in results.items() if e.negative}
    assert negative == ANGRY_CALLS, summary


# --------------------------------------------------------------------------- transformers backend


def test_transformers_backend_missing_folder_is_a_model_error(tmp_path: Path):
    with pytest.raises(ModelError, match="nope"):
        TransformersBackend(tmp_path / "nope")


def _tiny_model(folder: Path) -> None:
    """A randomly initialized 1-layer BERT classifier with a ~300-token vocabulary, saved offline."""
    transformers = pytest.importorskip("transformers")
    chars = sorted(set("我很生气太过分了满意谢谢你们好的不失望着急担心投诉物业电梯坏漏水房号一二三四五六七八九十"))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    vocab += [f"[unused{i}]" for i in range(300 - len(vocab))]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    transformers.BertTokenizer(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=3,
        id2label={0: "negative", 1: "neutral", 2: "positive"},
        label2id={"negative": 0, "neutral": 1, "positive": 2},
    )
    transformers.BertForSequenceClassification(config).save_pretrained(folder)


def test_transformers_backend_loads_a_local_model_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _tiny_model(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    backend = TransformersBackend(tmp_path)
    assert sorted(backend.polarity.values()) == ["negative", "neutral", "positive"]
    texts = ["我很生气！", "好的，谢谢你们。", "房号一二三"]
    results = backend.score(texts)
    assert len(results) == len(texts)
    for result in results:
        assert -3.0 <= result.score <= 3.0
        assert result.intensity == abs(result.score)
        assert result.label in {"不满", "平静", "正面"}
        assert result.hits[0] in {"negative", "neutral", "positive"}
    # The backend plugs into call_emotion like the lexicon.
    lexicon = load_emotion_lexicon(LEXICON_FILE)
    emotion = call_emotion(_call(*texts), lexicon, backend=backend)
    assert [u.score for u in emotion.utterances] == [r.score for r in results]
    # Configured, the Analyzer uses it in place of lexicon + sentiment model.
    from inspector.qa.analysis import Analyzer
    from inspector.settings import EmotionSettings, Settings

    analyzer = Analyzer(Settings(emotion=EmotionSettings(transformers_model=tmp_path)))
    assert isinstance(analyzer.emotion_backend, TransformersBackend)
    scored = analyzer.analyze_transcript(_call(*texts)).emotion["utterances"]
    assert [u["score"] for u in scored if u["role"] == "customer"] == [r.score for r in results]


def test_transformers_backend_rejects_unknown_labels(tmp_path: Path):
    transformers = pytest.importorskip("transformers")
    _tiny_model(tmp_path)
    config = transformers.AutoConfig.from_pretrained(tmp_path)
    config.id2label = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    config.save_pretrained(tmp_path)
    with pytest.raises(ModelError, match="LABEL_0"):
        TransformersBackend(tmp_path)


def test_transformers_backend_without_package_is_a_model_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(__import__("sys").modules, "transformers", None)  # import fails as if not installed
    with pytest.raises(ModelError, match="transformers"):
        TransformersBackend(tmp_path)


def test_transformers_backend_broken_model_is_a_model_error(tmp_path: Path):
    pytest.importorskip("transformers")
    (tmp_path / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="无法加载情绪模型"):
        TransformersBackend(tmp_path)


def test_transformers_backend_empty_folder_is_a_model_error(tmp_path: Path):
    pytest.importorskip("transformers")
    with pytest.raises(ModelError, match=r"config\.json"):
        TransformersBackend(tmp_path)
