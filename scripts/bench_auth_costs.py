#!/usr/bin/env python3
"""Costs of local sign-in and of page rules, measured in-process.

1. One argon2id verification with the parameters streamlit-auth uses (target: 50-500 ms
   here, slow enough against guessing, fast enough for a sign-in).
2. What page-rule enforcement adds to a page run: the decisions of ``[auth.access]`` for
   every page of a 12-page app, plus the page-structure copy the navigation patch makes,
   against a baseline of the same loop without rules (target: under 1 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stauth_server.core.access import PageRules  # noqa: E402
from stauth_server.core.identity import User  # noqa: E402
from stauth_server.core.sources.local import HASHER  # noqa: E402


class FakePage:
    """What the navigation patch reads of a StreamlitPage."""

    def __init__(self, name: str, default: bool = False):
        self.url_path = "" if default else name
        self._url_path = name
        self._page = Path(f"/app/pages/{name}.py")
        self._default = default


def argon2_ms(runs: int) -> list[float]:
    hashed = HASHER.hash("a-benchmark-password")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        HASHER.verify(hashed, "a-benchmark-password")
        times.append((time.perf_counter() - started) * 1000)
    return times


def page_rule_us(runs: int) -> tuple[float, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from patches.page_access import _keep, page_names

    pages = [FakePage("home", default=True)] + [FakePage(f"page{i}") for i in range(11)]
    rules = PageRules({"page1": ("admin",), "page2": ("staff", "admin"), "page3": (), "pages/page4.py": ("x",)},
                      require_login=True)
    user = User(id="u", roles=frozenset({"staff"}))
    main_dir = Path("/app")

    def with_rules() -> None:
        decisions = {id(p): rules.decide(user, page_names(p, main_dir)) for p in pages}
        _keep(list(pages), {k for k, d in decisions.items() if d.value == "allow"})

    def baseline() -> None:
        list(pages)

    def per_call(fn) -> float:
        rounds = []
        for _ in range(7):
            started = time.perf_counter()
            for _ in range(runs):
                fn()
            rounds.append((time.perf_counter() - started) / runs * 1e6)
        return min(rounds)

    return per_call(with_rules), per_call(baseline)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    times = argon2_ms(5 if args.quick else 15)
    median = statistics.median(times)
    print(f"argon2id verify ({HASHER.time_cost=}, {HASHER.memory_cost=} KiB, {HASHER.parallelism=}): "
          f"median {median:.0f} ms, min {min(times):.0f}, max {max(times):.0f} (n={len(times)}); "
          f"target 50-500 ms: {'ok' if 50 <= median <= 500 else 'OUTSIDE'}")
    ours, base = page_rule_us(2000 if args.quick else 20000)
    added = ours - base
    print(f"page rules for a 12-page app: {ours:.1f} us per page run vs {base:.2f} us without rules; "
          f"added {added:.1f} us = {added / 1000:.4f} ms; target < 1 ms: {'ok' if added < 1000 else 'ABOVE'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
