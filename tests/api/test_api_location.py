"""Where a call is about, over the API: the upload form's project/building/unit normalized with the company's
project list, the call list filtered by project, the room masked for those who may not see personal data and
shown (audited) on reveal."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from api.app import API_PREFIX
from inspector.settings import Settings
from inspector.store.schema import AuditEntry

SAMPLE = "call01_leak_stereo"
PROJECTS = """\
projects:
  - id: yangguang
    name: 阳光花园
    aliases: [阳光小区]
  - id: lanting
    name: 兰亭苑
"""


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    projects = tmp_path / "projects.yaml"
    projects.write_text(PROJECTS, encoding="utf-8")
    return settings.model_copy(update={"projects_file": projects})


def _upload(client, headers, path: Path, **fields):
    with path.open("rb") as f:
        return client.post(f"{API_PREFIX}/calls", headers=headers, data={"agent_id": "8001", **fields},
                           files={"audio": (path.name, f, "audio/wav")})  # fmt: skip


def test_upload_location_is_normalized_listed_and_its_room_masked(client, headers, samples_dir, database) -> None:
    wav = samples_dir / f"{SAMPLE}.wav"
    created = _upload(client, headers["admin"], wav, project="阳光小区", unit="3-1-601")
    assert created.status_code == 202, created.text
    call_id = created.json()["call_id"]

    detail = client.get(f"{API_PREFIX}/calls/{call_id}", headers=headers["reviewer"]).json()
    location = detail["location"]
    assert location["project"] == "yangguang" and location["source"] == "metadata"
    assert location["building"] == "3号楼"
    assert location["unit"] == "3号楼1单元***"  # the household is personal data

    revealed = client.get(f"{API_PREFIX}/calls/{call_id}", headers=headers["admin"], params={"reveal": "true"})
    assert revealed.json()["location"]["unit"] == "3号楼1单元601"
    with database.session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == call_id)).all()
    assert any("unit" in (entry.after or {}).get("kinds", []) for entry in entries), [e.after for e in entries]

    listed = client.get(f"{API_PREFIX}/calls", headers=headers["admin"], params={"project": "yangguang"}).json()
    assert [item["call_id"] for item in listed["items"]] == [call_id]
    assert listed["items"][0]["project"] == "yangguang" and listed["items"][0]["building"] == "3号楼"
    other = client.get(f"{API_PREFIX}/calls", headers=headers["admin"], params={"project": "lanting"}).json()
    assert other["items"] == []


def test_a_call_without_location_has_none(client, headers, samples_dir) -> None:
    created = _upload(client, headers["admin"], samples_dir / f"{SAMPLE}.wav")
    detail = client.get(f"{API_PREFIX}/calls/{created.json()['call_id']}", headers=headers["admin"]).json()
    assert detail.get("location") is None
