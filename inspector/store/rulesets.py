"""Rule sets in the database: uploaded bundles of YAML files, validated before they are kept, one active.

A bundle is what a ``rules/`` folder holds: rule-set files plus, optionally, ``vocabulary.yaml`` and
``emotion.yaml``. It is validated by loading and compiling it exactly as a worker would; a broken
bundle is refused whole (``RuleFileError`` naming file, line and rule), so workers keep using the
active one. Workers materialize a bundle into ``data_dir/rulesets/<sha256>/`` to load it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from inspector.errors import RuleFileError
from inspector.qa.rules.engine import compile_ruleset
from inspector.qa.rules.loader import load_ruleset
from inspector.store.db import utcnow
from inspector.store.schema import RuleSetRecord


def bundle_sha256(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def read_bundle(folder: Path) -> dict[str, str]:
    """The YAML files of a rules folder, by name relative to it."""
    files: dict[str, str] = {}
    for path in sorted(folder.rglob("*.yaml")):
        try:
            files[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise RuleFileError(path, f"不是 UTF-8 编码的文本（第 {err.start} 字节）") from None
    if not files:
        raise RuleFileError(folder, "目录中没有规则文件（*.yaml）")
    return files


def _safe_name(name: str) -> str:
    parts = Path(name).parts
    if not name.endswith(".yaml") or Path(name).is_absolute() or ".." in parts or not parts:
        raise RuleFileError(name, "规则文件名必须是相对路径且以 .yaml 结尾")
    return name


def write_bundle(files: dict[str, str], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        target = folder / _safe_name(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder


def validate_bundle(files: dict[str, str]) -> tuple[str, str, int]:
    """Load and compile the bundle as a worker would; returns (rule set id, version, rule count)."""
    for name in files:
        _safe_name(name)
    with tempfile.TemporaryDirectory(prefix="inspector-rules-") as tmp:
        folder = write_bundle(files, Path(tmp))
        try:
            ruleset = load_ruleset(folder)
            compile_ruleset(ruleset)
        except RuleFileError as err:
            # Name the file as uploaded, not the temporary folder.
            raise RuleFileError(
                str(err.path).replace(tmp + os.sep, ""), err.reason, line=err.line, rule_id=err.rule_id
            ) from None
    return ruleset.id, str(ruleset.version), len(ruleset.rules)


def add_ruleset(session: Session, files: dict[str, str]) -> tuple[RuleSetRecord, bool]:
    """Validate and keep a bundle; the same content again returns the stored one (created=False)."""
    digest = bundle_sha256(files)
    existing = session.scalars(select(RuleSetRecord).where(RuleSetRecord.sha256 == digest)).one_or_none()
    if existing is not None:
        return existing, False
    name, version, count = validate_bundle(files)
    record = RuleSetRecord(
        name=name,
        version=version,
        sha256=digest,
        files=files,
        rule_count=count,
        active=False,
        created_at=utcnow(),
        activated_at=None,
    )
    session.add(record)
    session.flush()
    return record, True


def active_ruleset(session: Session) -> RuleSetRecord | None:
    return session.scalars(select(RuleSetRecord).where(RuleSetRecord.active.is_(True))).first()


def activate(session: Session, rule_set_id: int) -> RuleSetRecord | None:
    record = session.get(RuleSetRecord, rule_set_id)
    if record is None:
        return None
    session.execute(update(RuleSetRecord).where(RuleSetRecord.id != rule_set_id).values(active=False))
    record.active = True
    record.activated_at = utcnow()
    session.flush()
    return record


def ensure_default(session: Session, rules_dir: Path) -> RuleSetRecord:
    """The active rule set; with none yet, the bundle in ``rules_dir`` is registered and activated."""
    active = active_ruleset(session)
    if active is not None:
        return active
    record, _ = add_ruleset(session, read_bundle(rules_dir))
    activated = activate(session, record.id)
    assert activated is not None
    return activated


def materialize(record: RuleSetRecord, cache_dir: Path) -> Path:
    """The bundle as a folder on disk (written once per content hash)."""
    folder = cache_dir / record.sha256
    marker = folder / ".complete"
    if marker.is_file():
        return folder
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{record.sha256[:12]}-", dir=cache_dir))
    write_bundle(record.files, tmp)
    (tmp / ".complete").write_text("")
    with contextlib.suppress(OSError):  # another process got there first
        os.replace(tmp, folder)
    return folder


def list_rulesets(session: Session) -> list[RuleSetRecord]:
    return list(session.scalars(select(RuleSetRecord).order_by(RuleSetRecord.id)))
