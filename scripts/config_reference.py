#!/usr/bin/env python3
"""Print (or write into README.md) the config reference tables, from ``core.options``.

The README's reference sits between ``<!-- config-reference:start -->`` and
``<!-- config-reference:end -->``; ``tests/unit/test_config_reference.py`` fails when it
differs from what this prints. After declaring an option, run
``python3 scripts/config_reference.py --write``.

Usage: ``python3 scripts/config_reference.py [--write]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stauth_server.core.options import reference_markdown  # noqa: E402

START = "<!-- config-reference:start -->"
END = "<!-- config-reference:end -->"


def readme_with_reference(readme: str) -> str:
    """``readme`` with the text between the markers replaced by the generated reference."""
    head, start, rest = readme.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"README.md lacks the {START} ... {END} markers")
    return f"{head}{START}\n{reference_markdown()}{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite README.md's reference in place")
    args = parser.parse_args()
    if args.write:
        path = REPO / "README.md"
        path.write_text(readme_with_reference(path.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote the config reference into {path}")
    else:
        print(reference_markdown(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
