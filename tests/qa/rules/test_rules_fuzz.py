"""No rule file, however broken, gets past the loader as anything but a RuleFileError.

Seeded mutations of the default pack (lines deleted, duplicated, re-indented, truncated, junk
tokens spliced in, YAML tags) must each either load into a rule set that evaluates a call, or be
refused with a one-line RuleFileError naming the file: never another exception, never a crash.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from inspector.errors import RuleFileError
from inspector.qa.rules.engine import compile_ruleset, evaluate
from inspector.qa.rules.loader import load_ruleset
from inspector.settings import PROJECT_ROOT
from inspector.speech.transcript import Transcript

PACK = (PROJECT_ROOT / "rules" / "property-default.yaml").read_text(encoding="utf-8")
JUNK = ["[", "]", "{", "}", ":", "- ", "\t", "999", "-1", "~", "null", "!!python/object:os.system", "&a", "*a",
        "'", '"', "%", "@", "`", "mode: sometimes", "points: many", "when: 3", "keywords: {any: 5}",
        "regex: {pattern: '('}", "dimension: nowhere", "id: greeting", "\u0000", "\ufeff"]  # fmt: skip


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        kind = rng.randrange(6)
        if kind == 0:
            del lines[i]
        elif kind == 1:
            lines.insert(i, lines[i])
        elif kind == 2:
            lines[i] = " " * rng.randint(0, 6) + lines[i].lstrip()
        elif kind == 3:
            at = rng.randint(0, len(lines[i]))
            lines[i] = lines[i][:at] + rng.choice(JUNK) + lines[i][at:]
        elif kind == 4:
            lines[i] = rng.choice(JUNK)
        else:
            lines = lines[: i + 1]
            lines[-1] = lines[-1][: rng.randint(0, len(lines[-1]))]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(300))
def test_mutated_pack_loads_or_is_refused_cleanly(seed: int, tmp_path: Path):
    path = tmp_path / "pack.yaml"
    path.write_text(mutate(PACK, random.Random(seed)), encoding="utf-8", errors="surrogatepass")
    try:
        ruleset = load_ruleset(path)
    except RuleFileError as err:
        assert str(path) in str(err)
        assert "\n" not in str(err)
        return
    call = json.loads((PROJECT_ROOT / "samples" / "calls" / "call02_angry_stereo.json").read_text(encoding="utf-8"))
    evaluate(compile_ruleset(ruleset), Transcript.from_dict(call))


def test_control_character_is_reported_with_its_line(tmp_path: Path):
    path = tmp_path / "pack.yaml"
    lines = PACK.splitlines()
    lines[9] += "\u0000"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(RuleFileError) as info:
        load_ruleset(path)
    assert info.value.line == 10
    assert "#x0000" in str(info.value)
