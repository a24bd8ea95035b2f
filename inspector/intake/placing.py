"""Where a call is about, wired for registration and for the worker.

At registration (upload form, CDR columns, file-name ``{project}``) the metadata is normalized with the
company's project list (``settings.projects_file``, ``inspector.intake.projects``). A call registered without
any location metadata gets one from its transcript once it is transcribed: what the customer says first,
then what the agent says (the agent often repeats the address back: 您是阳光花园3号楼1单元601对吧).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from inspector.intake.location import Location, from_metadata, locate
from inspector.intake.projects import ProjectCatalog, load_projects
from inspector.speech.transcript import Transcript


def project_catalog(path: Path | None) -> ProjectCatalog | None:
    """The project list at ``path`` (None: no list), re-read when the file changes."""
    if path is None:
        return None
    return _catalog(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _catalog(path: Path, mtime_ns: int) -> ProjectCatalog:
    return load_projects(path)


def location_columns(location: Location | None) -> dict[str, Any]:
    """The ``calls`` columns (and ``NewCall`` fields) of a location; all None without one."""
    if location is None:
        return {"project": None, "building": None, "unit": None, "location_source": None, "location_confidence": None}
    return {
        "project": location.project,
        "building": location.building,
        "unit": location.unit,
        "location_source": str(location.source),
        "location_confidence": location.confidence,
    }


def metadata_location(
    project: str | None, building: str | None, unit: str | None, catalog: ProjectCatalog | None
) -> dict[str, Any]:
    """``location_columns`` of the location the metadata gives (nothing given: all None)."""
    return location_columns(from_metadata(project, building, unit, catalog))


def transcript_location(transcript: Transcript, catalog: ProjectCatalog | None) -> Location | None:
    """The location said on the call: the customer's words first, then the agent's."""
    heard = transcript.recognized()
    for role in ("customer", "agent"):
        texts = [u.text for u in heard if u.role == role and u.text]
        found = locate(texts, catalog) if texts else None
        if found is not None:
            return found
    return None
