"""Reading the YAML files users write (rule sets, vocabulary, emotion lexicon): one place turns every
way a file can be unreadable into a one-line ``RuleFileError`` with file and line.

Parsing work is bounded, so that no file (an upload to ``POST /rulesets`` included) can stall a
process: at most ``MAX_BYTES`` per file, ``MAX_ALIASES`` alias uses (``*name``), ``MAX_NODES`` nodes
with every alias expanded (a "billion laughs" document is refused while it is being composed, before
anything walks it), ``MAX_DEPTH`` levels of nesting, and no alias inside the node it names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from inspector.errors import RuleFileError

MAX_BYTES = 1024 * 1024  # the default rule pack is 9 KB
MAX_ALIASES = 100
MAX_NODES = 50_000  # counting every alias expanded; the default rule pack has about 800
MAX_DEPTH = 64


class _BudgetExceeded(Exception):
    def __init__(self, reason: str, mark: yaml.Mark | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = mark.line + 1 if mark is not None else None


class _BoundedLoader(yaml.SafeLoader):
    """``SafeLoader`` that counts, while composing, alias uses, nesting depth and the size of every node
    as if its aliases were expanded (sizes of shared nodes are memoized, so counting costs nothing)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> expanded size, once the node is complete

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _BudgetExceeded(f"别名（*引用）超过上限 {MAX_ALIASES} 个", event.start_mark)
            node = super().compose_node(parent, index)
            if id(node) not in self._sizes:
                raise _BudgetExceeded(f"别名 *{event.anchor} 引用了包含它自身的节点（递归引用）", event.start_mark)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _BudgetExceeded(f"嵌套层数超过上限 {MAX_DEPTH} 层", event.start_mark)
        node = super().compose_node(parent, index)
        self._depth -= 1
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        size = 1 + sum(self._sizes[id(child)] for child in children)
        if size > MAX_NODES:
            reason = f"展开别名后节点数超过上限 {MAX_NODES} 个（疑似别名炸弹）"
            raise _BudgetExceeded(reason, node.start_mark)
        self._sizes[id(node)] = size
        return node


def read_yaml(path: Path, missing: str = "文件不存在") -> tuple[Any, yaml.Node | None]:
    """The file's data and its node tree (for line numbers), parsed once."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise RuleFileError(path, f"文件大小超过上限 {MAX_BYTES} 字节")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RuleFileError(path, missing) from exc
    except UnicodeDecodeError as exc:
        raise RuleFileError(path, f"文件不是 UTF-8 编码（{exc.reason}）") from exc
    except OSError as exc:
        raise RuleFileError(path, f"无法读取文件（{exc.strerror}）") from exc
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text)  # the reader already refuses control characters here
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _BudgetExceeded as exc:
        raise RuleFileError(path, exc.reason, line=exc.line) from None
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
