"""Reading the YAML files users write (rule sets, vocabulary, emotion lexicon): one place turns every
way a file can be unreadable into a one-line ``RuleFileError`` with file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from inspector.errors import RuleFileError


def read_yaml(path: Path, missing: str = "文件不存在") -> tuple[Any, yaml.Node | None]:
    """The file's data and its node tree (for line numbers), parsed once."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RuleFileError(path, missing) from exc
    except UnicodeDecodeError as exc:
        raise RuleFileError(path, f"文件不是 UTF-8 编码（{exc.reason}）") from exc
    except OSError as exc:
        raise RuleFileError(path, f"无法读取文件（{exc.strerror}）") from exc
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # the reader already refuses control characters here
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise RuleFileError(path, f"YAML 语法错误：{exc.problem}", line=line) from exc
    except yaml.reader.ReaderError as exc:
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        line = text.count("\n", 0, exc.position) + 1
        raise RuleFileError(path, f"文件含有不允许的字符 #x{char:04X}", line=line) from exc
    except yaml.YAMLError as exc:
        raise RuleFileError(path, f"YAML 语法错误：{exc}") from exc
    finally:
        if loader is not None:
            loader.dispose()
    return data, node
