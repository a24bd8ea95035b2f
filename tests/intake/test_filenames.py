"""inspector.intake.filenames and .metadata: PBX file name conventions and the metadata they give."""

from __future__ import annotations

from datetime import datetime

import pytest
from pbx import TZ, at

from inspector.intake.filenames import ASTERISK, FREESWITCH, convention_from_pattern, conventions_for, parse_filename
from inspector.intake.metadata import CallMetadata, ImportInputError

BUILTIN = (ASTERISK, FREESWITCH)
UUID = "6f1c2f0e-3b4a-4e55-9a7c-1d2e3f405162"


# --------------------------------------------------------------------------- metadata


def test_merged_prefers_self_and_fills_gaps() -> None:
    cdr = CallMetadata(agent_id="8001", duration_s=61.0)
    name = CallMetadata(agent_id="9999", caller="0755123456", call_id="1.2")
    merged = cdr.merged(name)
    assert merged == CallMetadata(agent_id="8001", duration_s=61.0, caller="0755123456", call_id="1.2")


# --------------------------------------------------------------------------- Asterisk / FreePBX


def test_asterisk_inbound() -> None:
    meta = ASTERISK.parse("in-8001-13812345678-20240315-093012-1710466212.42.wav", TZ)
    assert meta == CallMetadata(
        call_id="1710466212.42",
        agent_id="8001",
        started_at=at(2024, 3, 15, 9, 30, 12),
        direction="inbound",
        caller="13812345678",
    )
    assert meta.started_at is not None and meta.started_at.utcoffset() is not None


def test_asterisk_outbound_swaps_roles() -> None:
    meta = ASTERISK.parse("out-13812345678-8001-20240315-101500-1710468900.57.wav", TZ)
    assert meta is not None
    assert (meta.agent_id, meta.caller, meta.direction) == ("8001", "13812345678", "outbound")
    assert meta.call_id == "1710468900.57"
    assert meta.started_at == at(2024, 3, 15, 10, 15, 0)


def test_asterisk_queue_has_no_agent() -> None:
    meta = ASTERISK.parse("q-600-13812345678-20240315-093012-1710466212.42.wav", TZ)
    assert meta is not None
    assert meta.agent_id is None
    assert (meta.caller, meta.direction, meta.call_id) == ("13812345678", "inbound", "1710466212.42")


def test_asterisk_inbound_to_a_did_has_no_agent() -> None:
    meta = ASTERISK.parse("in-4008001234-13812345678-20240315-093012-1710466212.42.wav", TZ)
    assert meta is not None
    assert (meta.agent_id, meta.caller, meta.direction) == (None, "13812345678", "inbound")


def test_asterisk_exten_and_force() -> None:
    internal = ASTERISK.parse("exten-8001-8002-20240315-093012-1710466212.42.wav", TZ)
    assert internal is not None
    assert (internal.agent_id, internal.caller, internal.direction) == ("8001", "8002", None)
    incoming = ASTERISK.parse("exten-8001-02787654321-20240315-093012-1710466212.43.mp3", TZ)
    assert incoming is not None
    assert (incoming.agent_id, incoming.caller, incoming.direction) == ("8001", "02787654321", "inbound")
    forced = ASTERISK.parse("force-0821XXXX8663-3201-20250327-092517-1743042317.12206.wav", TZ)
    assert forced is not None
    assert (forced.agent_id, forced.caller, forced.direction) == ("3201", "0821XXXX8663", "outbound")


def test_asterisk_keeps_numbers_and_system_name_uniqueid() -> None:
    meta = ASTERISK.parse("IN-8001-+8613812345678-20240315-093012-pbx01-1710466212.42.WAV", TZ)
    assert meta is not None
    assert meta.caller == "+8613812345678"
    assert meta.call_id == "pbx01-1710466212.42"
    assert meta.direction == "inbound"
    leading_zero = ASTERISK.parse("in-8001-075512345678-20240315-093012-1710466212.42.wav", TZ)
    assert leading_zero is not None and leading_zero.caller == "075512345678"


def test_invalid_date_does_not_match() -> None:
    assert ASTERISK.parse("in-8001-13812345678-20241345-093012-1710466212.42.wav", TZ) is None
    assert ASTERISK.parse("in-8001-13812345678-20240315-253012-1710466212.42.wav", TZ) is None
    assert FREESWITCH.parse("2024-02-30-09-30-12_8001_13812345678.wav", TZ) is None
    assert parse_filename("in-8001-13812345678-20241345-093012-1710466212.42.wav", BUILTIN, TZ) is None


# --------------------------------------------------------------------------- FreeSWITCH


def test_freeswitch_datetime_destination_caller() -> None:
    meta = FREESWITCH.parse("2024-03-15-09-30-12_8001_13812345678.wav", TZ)
    assert meta == CallMetadata(
        agent_id="8001", started_at=at(2024, 3, 15, 9, 30, 12), direction="inbound", caller="13812345678"
    )


def test_freeswitch_outbound_when_destination_is_external() -> None:
    meta = FREESWITCH.parse("2024-03-15-09-30-12_013812345678_8001.wav", TZ)
    assert meta is not None
    assert (meta.agent_id, meta.caller, meta.direction) == ("8001", "013812345678", "outbound")


def test_freeswitch_uuid_only() -> None:
    assert FREESWITCH.parse(f"{UUID}.wav", TZ) == CallMetadata(call_id=UUID)
    assert parse_filename(f"{UUID}.wav", BUILTIN, TZ) == CallMetadata(call_id=UUID)


def test_unknown_names_do_not_match() -> None:
    for name in ("recording.wav", "8001.wav", "in-8001.wav", "2024-03-15_8001.wav", ".wav"):
        assert parse_filename(name, BUILTIN, TZ) is None, name


# --------------------------------------------------------------------------- custom --pattern


def test_custom_pattern_datetime() -> None:
    convention = convention_from_pattern("{agent_id}_{caller}_{datetime}")
    meta = convention.parse("8001_13812345678_20240315093012.wav", TZ)
    assert meta == CallMetadata(agent_id="8001", caller="13812345678", started_at=at(2024, 3, 15, 9, 30, 12))
    assert convention.parse("8001_13812345678_20240315093012", TZ) == meta  # extension optional
    assert convention.parse("8001_13812345678_20241315093012.wav", TZ) is None  # month 13


def test_custom_pattern_with_extension_direction_epoch_and_wildcard() -> None:
    convention = convention_from_pattern("{direction}_{agent_id}_{epoch}_{*}.{ext}")
    meta = convention.parse("呼出_A1023_1710466212_whatever-1.mp3", TZ)
    assert meta is not None
    assert (meta.agent_id, meta.direction) == ("A1023", "outbound")
    assert meta.started_at == datetime.fromtimestamp(1710466212, TZ)
    with_wav = convention_from_pattern("{agent_id}-{date}-{time}.wav")
    meta = with_wav.parse("8001-20240315-093012.wav", TZ)
    assert meta is not None and meta.started_at == at(2024, 3, 15, 9, 30, 12)
    assert with_wav.parse("8001-20240315-093012.mp3", TZ) is None


def test_custom_pattern_escapes_literal_metacharacters() -> None:
    convention = convention_from_pattern("rec[{agent_id}]+({caller}).{call_id}")
    meta = convention.parse("rec[8001]+(0755-1234567).abc.wav", TZ)
    assert meta is not None
    assert (meta.agent_id, meta.caller, meta.call_id) == ("8001", "0755-1234567", "abc")
    assert convention.parse("recX8001]+(0755).abc.wav", TZ) is None
    assert convention.parse("rec[8001]]((0755).abc.wav", TZ) is None
    dots = convention_from_pattern("{agent_id}.{caller}")
    assert dots.parse("8001x13812345678.wav", TZ) is None  # "." is literal, not "any character"
    meta = dots.parse("8001.13812345678.wav", TZ)  # the extension is not part of {caller}
    assert meta is not None and (meta.agent_id, meta.caller) == ("8001", "13812345678")


def test_custom_pattern_errors() -> None:
    with pytest.raises(ImportInputError, match=r"\{agent\}") as info:
        convention_from_pattern("{agent}_{caller}")
    assert info.value.code == "invalid_import_input"
    assert "\n" not in str(info.value)
    with pytest.raises(ImportInputError, match="花括号"):
        convention_from_pattern("{agent_id_{caller}")
    with pytest.raises(ImportInputError, match="多次"):
        convention_from_pattern("{caller}_{caller}")
    with pytest.raises(ImportInputError, match="占位符"):
        convention_from_pattern("recording_{*}")


def test_custom_pattern_is_tried_first() -> None:
    conventions = conventions_for("{agent_id}-{caller}-{*}")
    assert [c.name for c in conventions] == ["custom", "asterisk", "freeswitch"]
    meta = parse_filename("in-8001-13812345678-20240315-093012-1710466212.42.wav", conventions, TZ)
    assert meta is not None and meta.agent_id == "in"  # the custom pattern won
    assert conventions_for(None) == BUILTIN
    meta = parse_filename(f"{UUID}.wav", conventions_for("{agent_id}_{caller}"), TZ)
    assert meta == CallMetadata(call_id=UUID)  # falls through to FreeSWITCH
