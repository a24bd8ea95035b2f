"""Unit and building extraction (inspector.intake.location) on a labeled set of what owners say as ASR writes it.

    .venv/bin/python bench/location.py [bench/data/locations.jsonl]
    .venv/bin/python bench/location.py bench/data/locations-heldout.jsonl

Prints exact-match accuracy for the building and the unit over every line (a line without a location must
give none), then each miss. Both sets were written for this project (digits and Chinese numerals, 栋/幢/座,
amounts, numbers and dates that are not rooms); neither is from any test recording. ``locations.jsonl`` is
the development set the address parser was built against; ``locations-heldout.jsonl`` was written blind to
the code and is the measure (README: never change the code to fix one of its lines).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from inspector.intake.location import locate

DEFAULT = Path(__file__).parent / "data" / "locations.jsonl"


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    right = {"building": 0, "unit": 0}
    misses: list[str] = []
    for row in rows:
        found = locate([row["text"]], None)
        got = {"building": found.building if found else None, "unit": found.unit if found else None}
        for field in right:
            if got[field] == row[field]:
                right[field] += 1
            else:
                misses.append(f"  {field:<8} {row['text']}  expected {row[field]!r}, got {got[field]!r}")
    with_unit = sum(1 for row in rows if row["unit"])
    print(f"{len(rows)} lines ({with_unit} with a room, {len(rows) - with_unit} without)")
    for field, count in right.items():
        print(f"{field:<8} exact {count}/{len(rows)} = {count / len(rows):.3f}")
    if misses:
        print("misses:")
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
