"""Where a call is about: the project (项目/小区), the building and the unit (房号), from metadata or from what
was said on the call.

Canonical forms: a building is its number and 号楼 (三号楼, 3栋, 3幢 → ``3号楼``) or its letter and 座 (B座, C栋
→ ``B座``, ``C座``); a unit is the building, the 单元 when said, and the room (三号楼一单元六零一 →
``3号楼1单元601``). Rooms are found by the personal-data detector's address reading
(``inspector.privacy.detection``, its parser ``inspector.privacy.address``), so an address masked in a
transcript and the unit stored for the call are the same reading: the parts of an address with fillers
between them (六号楼二单元，呃，五零一), a room said before its building (我家三零二，三号楼的), a room said as a
number (两千零三), labels (楼号是九，单元是二，房号五零一). Buildings said without a room (三号楼的电梯坏了) are
read with the same parser's building words; a count is not a building (两栋楼停电了, 这三栋).

A project is recognised only from the company's list (``inspector.intake.projects``): by its name or an alias,
or by the same pinyin (ASR writes 杨光花园 for 阳光花园), at a lower confidence.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from inspector.intake.projects import ProjectCatalog
from inspector.privacy.address import find_buildings
from inspector.privacy.detection import detect
from inspector.text.normalize import clean_text, normalize_for_cer
from inspector.text.pinyin import find_phrase, syllables
from inspector.vocab import PiiKind


class LocationSource(enum.StrEnum):
    METADATA = "metadata"  # the upload form, a CDR column or the file name
    TRANSCRIPT = "transcript"  # heard on the call


@dataclass(frozen=True)
class Location:
    project: str | None  # the project's id (a metadata value not in the list: as given)
    building: str | None  # "3号楼", "B座"
    unit: str | None  # "3号楼1单元601"
    source: LocationSource
    confidence: float
    evidence: str | None = None  # the words it was read from (transcript source)


# Confidence of a location read from a transcript: a room said with its building (the detector's own
# confidence, 0.8–0.9), a building alone, a project matched by pinyin instead of its characters.
BUILDING_ONLY_CONFIDENCE = 0.7
PROJECT_CONFIDENCE = 0.9
HOMOPHONE_CONFIDENCE = 0.75

# The detector's reading of an address: [community][二期][5号院]3号楼[1单元][15层]601[室].
_UNIT = re.compile(
    r"(?P<building>[0-9]{1,3}|[A-Za-z])(?P<suffix>号楼|栋|幢|座)(?:(?P<unit>[0-9]{1,2})单元)?(?:[0-9]{1,2}[楼层])?"
    r"(?P<room>[0-9]{3,4})(?:室|房|号)?$"
)
# Metadata rooms as staff type them: 3-1-601, 3栋1单元601室, 3号楼601.
_DASHED = re.compile(r"(?P<building>[0-9]{1,3})\s*[-－—/]\s*(?P<unit>[0-9]{1,2})\s*[-－—/]\s*(?P<room>[0-9]{3,4})")


def canonical_building(number: str, suffix: str) -> str:
    """``3号楼`` for 号楼/栋/幢, ``3座`` for a numbered 座, ``B座`` for a letter (B座, C栋, D幢)."""
    if not number.isdigit():  # a letter: a tower, whatever word follows it
        return number.upper() + "座"
    if suffix == "座":
        return str(int(number)) + "座"
    return str(int(number)) + "号楼"


def _unit(building: str, unit: str | None, room: str) -> str:
    return building + (f"{int(unit)}单元" if unit else "") + room


def _read_unit(value: str) -> tuple[str, str] | None:
    """(building, unit) of an address value or a typed room; None when it is not one."""
    m = _DASHED.fullmatch(unicodedata.normalize("NFKC", value).strip())  # before punctuation is removed
    if m is not None:
        building = canonical_building(m.group("building"), "号楼")
        return building, _unit(building, m.group("unit"), m.group("room"))
    m = _UNIT.search(normalize_for_cer(value))
    if m is None:
        return None
    building = canonical_building(m.group("building"), m.group("suffix"))
    return building, _unit(building, m.group("unit"), m.group("room"))


def _read_building(text: str) -> str | None:
    """The first building said in ``text`` (not a count: 两栋楼), canonical; None when none is."""
    found = find_buildings(clean_text(text))
    return canonical_building(found[0].number, found[0].suffix) if found else None


def from_metadata(
    project: str | None, building: str | None, unit: str | None, catalog: ProjectCatalog | None
) -> Location | None:
    """The location metadata gives, normalized: the project by id when the list knows it (else as given),
    the building and unit in canonical form (a unit that cannot be read is kept as given)."""
    project = project.strip() if project and project.strip() else None
    building = building.strip() if building and building.strip() else None
    unit = unit.strip() if unit and unit.strip() else None
    if project is None and building is None and unit is None:
        return None
    if project is not None and catalog is not None:
        known = catalog.resolve(project)
        project = known.id if known is not None else project
    if unit is not None:
        read = _read_unit(unit)
        if read is not None:
            building, unit = building or read[0], read[1]
    if building is not None:
        building = _read_building(building) or building
    return Location(project, building, unit, LocationSource.METADATA, 1.0)


def _project_in(text: str, catalog: ProjectCatalog) -> tuple[str, float] | None:
    found = catalog.find(text)
    if found is not None:
        return found[0].id, PROJECT_CONFIDENCE
    said = syllables(text)
    for project in catalog.projects:
        for name in project.names:
            if len(name) >= 3 and find_phrase(syllables(name), said, 0, 99) is not None:
                return project.id, HOMOPHONE_CONFIDENCE
    return None


def locate(texts: Sequence[str], catalog: ProjectCatalog | None) -> Location | None:
    """The location said in ``texts`` (one speaker's utterances, in order): the first room said with its
    building, else the first building; the project named anywhere in them. None when nothing is said."""
    project: tuple[str, float] | None = None
    unit: tuple[str, str, float, str] | None = None  # building, unit, confidence, evidence
    building: tuple[str, str] | None = None  # building, evidence
    for text in texts:
        if project is None and catalog is not None:
            project = _project_in(text, catalog)
        if unit is None:
            for found in detect(text):
                read = _read_unit(found.value) if found.kind == PiiKind.ADDRESS else None
                if read is not None:
                    unit = (read[0], read[1], found.confidence, text)
                    break
        if building is None and unit is None:
            seen = _read_building(text)
            if seen is not None:
                building = (seen, text)
    if project is None and unit is None and building is None:
        return None
    project_id, project_confidence = project if project is not None else (None, 1.0)
    if unit is not None:
        place_confidence, evidence = unit[2], unit[3]
        place: tuple[str | None, str | None] = (unit[0], unit[1])
    elif building is not None:
        place_confidence, evidence, place = BUILDING_ONLY_CONFIDENCE, building[1], (building[0], None)
    else:
        place_confidence, evidence, place = 1.0, None, (None, None)
    confidence = round(min(place_confidence, project_confidence if project is not None else 1.0), 3)
    return Location(project_id, place[0], place[1], LocationSource.TRANSCRIPT, confidence, evidence)
