"""Personal data over the API: masked for every role by default (transcript, call detail, review page, alerts,
exports, recording), revealed only to admins and users granted ``pii``, every reveal audited."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from api.app import API_PREFIX
from inspector.speech.transcript import Transcript, Word

MOBILE = "13912345678"
ID_NUMBER = "440301198507150010"  # checksum valid (stdnum.cn.ric)
PII_TEXT = f"太过分了！我要投诉你们，我的电话是{MOBILE}，身份证号{ID_NUMBER}，我要打一二三四五热线，还要找媒体曝光！"
SEVEN_DIGITS = re.compile(r"\d{7,}")
ROLES = ("admin", "reviewer", "trainer", "team_lead", "agent")


def _with_words(text: str, start: float, end: float) -> list[Word]:
    """Words of about three characters, spread evenly over the utterance (as the recognizer gives them)."""
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    step = (end - start) / len(pieces)
    return [Word(start + i * step, start + (i + 1) * step, p, 0.9) for i, p in enumerate(pieces)]


@pytest.fixture
def pii_call(make_call, database, settings, analyzer, samples_dir: Path) -> str:
    """call02's recording (in the audio store) with an owner who says a mobile and an ID number (utterance 9)."""
    from inspector.store import calls as store
    from inspector.store import rulesets
    from inspector.store.schema import Call

    call_id = make_call("pii1", sample="call02_angry_stereo")
    data = json.loads((samples_dir / "call02_angry_stereo.json").read_text(encoding="utf-8"))
    transcript = Transcript.from_dict(data)
    said = transcript.utterances[9]
    said.text = said.raw_text = PII_TEXT
    said.words = _with_words(PII_TEXT, said.start, said.end)
    with database.session() as session:
        call = session.get(Call, call_id)
        store.save_transcript(session, call_id, transcript)
        record = rulesets.ensure_default(session, settings.rules_dir)
        store.save_analysis(session, call, analyzer.analyze_transcript(transcript, "8001"), record.id, True)
    return call_id


def _no_digits_run(body: Any) -> None:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    assert MOBILE not in text and ID_NUMBER not in text
    assert not SEVEN_DIGITS.search(text), SEVEN_DIGITS.search(text)


@pytest.mark.parametrize("who", ROLES)
def test_every_role_reads_the_transcript_masked(client, headers, pii_call, who) -> None:
    response = client.get(f"{API_PREFIX}/calls/{pii_call}/transcript", params={"words": "true"}, headers=headers[who])
    assert response.status_code == 200, response.text
    body = response.json()
    _no_digits_run(body)
    assert body["masked"] is True and {"mobile", "id_number"} <= set(body["pii"])
    said = body["utterances"][9]["text"]
    assert "139****5678" in said and "4403**********0010" in said
    assert body["utterances"][0]["text"] == "您好，阳光物业客服。"  # nothing else changes


@pytest.mark.parametrize("who", ROLES)
def test_call_detail_review_page_and_alerts_are_masked(client, headers, pii_call, database, who) -> None:
    from inspector.people import alerts
    from inspector.settings import AlertSettings
    from inspector.store.schema import Analysis, Call

    with database.session() as session:
        call = session.get(Call, pii_call)
        assert alerts.raise_alert(session, AlertSettings(), call, session.get(Analysis, call.analysis_id))
    unmasked = client.get(f"{API_PREFIX}/calls/{pii_call}", params={"reveal": "true"}, headers=headers["admin"])
    assert MOBILE in unmasked.text  # the detail quotes the owner's words (the emotion peak)
    detail = client.get(f"{API_PREFIX}/calls/{pii_call}", headers=headers[who])
    assert detail.status_code == 200
    assert "139****5678" in detail.text
    _no_digits_run(detail.json())
    review = client.get(f"{API_PREFIX}/calls/{pii_call}/review", headers=headers[who])
    assert review.status_code == 200
    _no_digits_run(review.json())
    if who != "agent":
        listed = client.get(f"{API_PREFIX}/alerts", headers=headers[who])
        assert listed.status_code == 200 and listed.json()["total"] == 1
        _no_digits_run(listed.json())


def test_webhook_payload_is_masked(pii_call, database) -> None:
    from inspector.people import alerts
    from inspector.service.webhooks import payload
    from inspector.settings import AlertSettings
    from inspector.store.schema import Analysis, Call

    with database.session() as session:
        call = session.get(Call, pii_call)
        alert = alerts.raise_alert(session, AlertSettings(), call, session.get(Analysis, call.analysis_id))
        body = payload(alert, call)
    assert any("投诉" in r for r in body["reasons"])
    _no_digits_run(body)


def test_reveal_needs_the_permission_and_is_audited(client, headers, pii_call) -> None:
    url = f"{API_PREFIX}/calls/{pii_call}/transcript"
    for who in ("reviewer", "trainer", "team_lead", "agent"):
        refused = client.get(url, params={"reveal": "true"}, headers=headers[who])
        assert refused.status_code == 403 and refused.json()["code"] == "pii_forbidden", who
    shown = client.get(url, params={"reveal": "true"}, headers=headers["admin"])
    assert shown.status_code == 200
    assert shown.json()["masked"] is False and shown.json()["utterances"][9]["text"] == PII_TEXT
    reveals = client.get(f"{API_PREFIX}/audit/reveals", headers=headers["admin"])
    assert reveals.status_code == 200
    (entry,) = reveals.json()["items"]
    assert entry["entity_id"] == pii_call and entry["action"] == "pii.reveal" and entry["actor"].startswith("token:")
    assert entry["after"]["surface"] == "transcript" and {"mobile", "id_number"} <= set(entry["after"]["kinds"])
    assert client.get(f"{API_PREFIX}/audit/reveals", headers=headers["reviewer"]).status_code == 403


def test_a_user_granted_pii_may_reveal(login, database, users, pii_call) -> None:
    from inspector.store.users import get_user, set_pii

    browser = login("reviewer")
    url = f"{API_PREFIX}/calls/{pii_call}/transcript"
    assert browser.get(url, params={"reveal": "true"}).status_code == 403
    assert browser.get(f"{API_PREFIX}/auth/me").json()["user"]["pii"] is False
    with database.session() as session:
        assert set_pii(session, get_user(session, users["reviewer"]), True, actor="cli:test")
    assert browser.get(f"{API_PREFIX}/auth/me").json()["user"]["pii"] is True
    shown = browser.get(url, params={"reveal": "true"})
    assert shown.status_code == 200 and MOBILE in shown.text
    review = browser.get(f"{API_PREFIX}/calls/{pii_call}/review", params={"reveal": "true"})
    assert review.status_code == 200
    with database.session() as session:
        from inspector.store import audit

        grant = audit.history(session, "user", users["reviewer"])
        reveals = audit.history(session, "call", pii_call)
    assert [e.action for e in grant] == ["pii.grant"]
    assert [(e.actor, e.after["surface"]) for e in reveals] == [
        (f"user:{users['reviewer']}", "transcript"),
        (f"user:{users['reviewer']}", "review"),
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_transcript_export_is_masked(client, headers, pii_call, fmt) -> None:
    import pandas as pd

    response = client.get(f"{API_PREFIX}/exports/calls/{pii_call}/transcript.{fmt}", headers=headers["reviewer"])
    assert response.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        text = "\n".join(",".join(r) for r in rows)
    else:
        text = pd.read_excel(io.BytesIO(response.content)).to_csv()
    assert "内容" in text and "139****5678" in text
    _no_digits_run(text)


def test_calls_export_masks_the_caller_for_admins_too(client, headers, pii_call) -> None:
    response = client.get(f"{API_PREFIX}/exports/calls.csv", headers=headers["admin"])
    assert response.status_code == 200
    assert "138****5678" in response.content.decode("utf-8-sig")
    _no_digits_run(response.content.decode("utf-8-sig"))


def _samples(content: bytes) -> tuple[np.ndarray, int]:
    data, rate = sf.read(io.BytesIO(content), dtype="int16", always_2d=True)
    return data, rate


def test_recording_is_masked_over_the_numbers_and_unchanged_elsewhere(client, headers, pii_call, samples_dir) -> None:
    original = (samples_dir / "call02_angry_stereo.wav").read_bytes()
    served = {}
    for who in ("reviewer", "agent"):
        response = client.get(f"{API_PREFIX}/calls/{pii_call}/audio", headers=headers[who])
        assert response.status_code == 200
        served[who] = response.content
    assert served["reviewer"] == served["agent"] != original
    masked, rate = _samples(served["reviewer"])
    plain, plain_rate = _samples(original)
    assert masked.shape == plain.shape and rate == plain_rate
    changed = np.flatnonzero(np.any(masked != plain, axis=1)) / rate
    # The owner's numbers (utterance 9, 47.12-54.75 s) and the address said in utterance 3 (11.68-20.56 s,
    # 一号楼一单元八零一): nothing outside them changes, and only part of each utterance is covered.
    windows = [(11.68, 20.56), (47.12, 54.75)]
    assert all(any(a - 0.01 <= t <= b + 0.01 for a, b in windows) for t in changed[:: rate // 100])
    for a, b in windows:
        inside = changed[(changed >= a) & (changed <= b)]
        assert inside.size and inside.size / rate < (b - a)
    exported = client.get(f"{API_PREFIX}/exports/calls/{pii_call}/audio", headers=headers["trainer"])
    assert exported.status_code == 200 and exported.content == served["reviewer"]
    assert "attachment" in exported.headers["content-disposition"]


def test_revealed_recording_is_the_original_and_audited(client, headers, pii_call, samples_dir, database) -> None:
    from inspector.store import audit

    original = (samples_dir / "call02_angry_stereo.wav").read_bytes()
    url = f"{API_PREFIX}/calls/{pii_call}/audio"
    assert client.get(url, params={"reveal": "true"}, headers=headers["reviewer"]).status_code == 403
    response = client.get(url, params={"reveal": "true"}, headers=headers["admin"])
    assert response.status_code == 200 and response.content == original
    later = client.get(url, params={"reveal": "true"}, headers={**headers["admin"], "Range": "bytes=1000-1999"})
    assert later.status_code == 206
    with database.session() as session:
        entries = audit.history(session, "call", pii_call)
    assert [e.after["surface"] for e in entries] == ["audio"]  # a player's later range requests are not reveals


def test_purged_recording_is_gone_unless_a_masked_copy_is_kept(client, headers, pii_call, database, settings) -> None:
    from inspector.store.blobs import LocalAudioStore
    from inspector.store.db import utcnow
    from inspector.store.schema import Call

    url = f"{API_PREFIX}/calls/{pii_call}/audio"
    masked = client.get(url, headers=headers["reviewer"]).content
    with database.session() as session:
        call = session.get(Call, pii_call)
        LocalAudioStore(settings.audio_store_dir).delete(call.audio_sha256)
        call.audio_purged_at = utcnow()
    kept = client.get(url, headers=headers["admin"])  # the original is gone for everyone; the masked copy stays
    assert kept.status_code == 200 and kept.content == masked
    detail = client.get(f"{API_PREFIX}/calls/{pii_call}", headers=headers["reviewer"]).json()
    assert detail["audio_purged_at"] is not None and detail["score"] is not None
    with database.session() as session:
        from inspector.store.schema import MaskedAudio

        for row in session.query(MaskedAudio).filter_by(call_id=pii_call):
            LocalAudioStore(settings.audio_store_dir).delete(row.masked_sha256)
    gone = client.get(url, headers=headers["reviewer"])
    assert gone.status_code == 410 and gone.json()["code"] == "audio_purged"


def test_rule_playground_on_a_stored_call_shows_it_masked(client, headers, pii_call) -> None:
    rule = "id: complaint\nname: 投诉\ncategory: escalation\ndimension: compliance\nmode: detect\nrole: customer\n" \
           "when:\n  keywords: {any: [过分]}\n"  # fmt: skip
    body = {"rule_yaml": rule, "call_id": pii_call}
    response = client.post(f"{API_PREFIX}/rulesets/playground", json=body, headers=headers["reviewer"])
    assert response.status_code == 200, response.text
    result = response.json()
    assert [f["outcome"] for f in result["findings"]] == ["hit"]  # the rule ran on the original words
    assert any("139****5678" in u["text"] for u in result["utterances"])
    _no_digits_run(result)
    pasted = {"rule_yaml": rule, "dialogue": f"客户：太过分了，我的电话是{MOBILE}"}
    own = client.post(f"{API_PREFIX}/rulesets/playground", json=pasted, headers=headers["reviewer"])
    assert own.status_code == 200 and MOBILE in own.text  # what the user pasted comes back as pasted
