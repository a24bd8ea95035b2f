from pathlib import Path

import pytest

from inspector.errors import RuleFileError
from inspector.settings import PROJECT_ROOT
from inspector.speech.lexicon import load_vocabulary


def test_default_rules_give_vocabulary():
    vocab = load_vocabulary(PROJECT_ROOT / "rules")
    assert "工号" in vocab.hotwords
    assert "很高兴为您服务" in vocab.agent_cues
    assert "我家" in vocab.customer_cues
    # The prompt must not carry concrete facts (a 工号 number) the recognizer could copy.
    assert not any(ch.isdigit() for ch in vocab.prompt)


def test_greeting_rules_add_agent_cues(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(
        "rules:\n  - id: greet\n    category: greeting\n    phrases: [早上好]\n"
        "  - id: other\n    category: apology\n    phrases: [抱歉]\n",
        encoding="utf-8",
    )
    vocab = load_vocabulary(tmp_path)
    assert vocab.agent_cues == ("早上好",)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("vocabulary:\n  hotwords: [物业, 客服\n  prompt: x\n", encoding="utf-8")
    with pytest.raises(RuleFileError) as info:
        load_vocabulary(tmp_path)
    assert "bad.yaml" in str(info.value)
    assert info.value.line is not None
    assert "\n" not in str(info.value)


def test_wrong_field_type_is_refused(tmp_path: Path):
    (tmp_path / "v.yaml").write_text("vocabulary:\n  hotwords: 物业\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match=r"vocabulary\.hotwords"):
        load_vocabulary(tmp_path)


def test_non_utf8_file_is_refused(tmp_path: Path):
    (tmp_path / "gbk.yaml").write_bytes("vocabulary:\n  prompt: 物业\n".encode("gbk"))
    with pytest.raises(RuleFileError, match="UTF-8"):
        load_vocabulary(tmp_path)


def test_missing_directory(tmp_path: Path):
    with pytest.raises(RuleFileError, match="不存在"):
        load_vocabulary(tmp_path / "nope")
