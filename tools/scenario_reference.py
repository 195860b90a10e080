"""Regenerate docs/scenario-reference.md from the scenario schema.

Usage: python tools/scenario_reference.py [--check]
With --check, write nothing and exit 1 if the file differs from what the schema gives.
"""

from __future__ import annotations

import sys
from pathlib import Path

from shieldlab.scenario.reference import markdown_reference

TARGET = Path(__file__).resolve().parent.parent / "docs" / "scenario-reference.md"


def main(argv: list[str]) -> int:
    text = markdown_reference()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python tools/scenario_reference.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
