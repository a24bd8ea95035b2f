from pathlib import Path

import pytest

from inspector.errors import RuleFileError
from inspector.yamlfile import read_yaml


def test_data_and_nodes_from_one_parse(tmp_path: Path):
    path = tmp_path / "a.yaml"
    path.write_text("kind: vocabulary\nhotwords: [物业, 工号]\n", encoding="utf-8")
    data, node = read_yaml(path)
    assert data == {"kind": "vocabulary", "hotwords": ["物业", "工号"]}
    assert node is not None and node.value[1][1].start_mark.line == 1
    path.write_text("", encoding="utf-8")
    assert read_yaml(path) == (None, None)


@pytest.mark.parametrize(
    ("content", "reason", "line"),
    [
        (b"a: [1, 2\nb: 3\n", "YAML 语法错误", 2),
        ("a: 1\nb: x\u0000\n".encode(), "#x0000", 2),
        ("a: 物业\n".encode("gbk"), "UTF-8", None),
    ],
)
def test_unreadable_files_are_one_line_errors(tmp_path: Path, content: bytes, reason: str, line: int | None):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(RuleFileError) as info:
        read_yaml(path)
    assert reason in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)
    assert info.value.line == line


def test_missing_file_message_is_the_callers(tmp_path: Path):
    with pytest.raises(RuleFileError, match="情绪词典文件不存在"):
        read_yaml(tmp_path / "nope.yaml", missing="情绪词典文件不存在")
