"""The product's vocabulary (no token): every status, level and role with its Chinese label, so the web
UI and integrations read the labels from here instead of keeping their own copies."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import RootModel

from inspector.vocab import as_json

public = APIRouter(tags=["词表"])


class VocabularyOut(RootModel[dict[str, dict[str, str]]]):
    """``{vocabulary: {value: 中文标签}}``, e.g. ``{"alert_level": {"red": "红色预警", ...}, ...}``."""


@public.get("/vocabulary", response_model=VocabularyOut, summary="词表：状态、等级与角色的取值及中文标签（无需令牌）")
def vocabulary() -> VocabularyOut:
    return VocabularyOut(as_json())
