#!/usr/bin/env python3
"""Property-based fuzzing, by the hundred thousand (issue 7, section 5).

What runs
    The properties of tests/unit/test_fuzz_properties.py (cookie codec, redirect and
    ``next`` filters, route compiler, config parser) and tests/endpoints/test_fuzz_endpoints.py
    (``/oauth2callback``, ``POST /auth/login``, the other sign-in endpoints and
    ``@sa.route`` endpoints over real HTTP): the very tests the suite runs with 60
    examples each, here with enough examples per property that they total at least
    ``--total`` (100,000 by default).

How
    1. ``pytest --collect-only`` counts the properties; each gets ceil(total / count)
       examples through ``STAUTH_FUZZ_EXAMPLES``.
    2. pytest runs both files in this process (``-p no:cacheprovider``; hypothesis keeps
       no example database), with ``--hypothesis-seed`` (``--seed``, random by default and
       printed, so a run can be repeated exactly).
    3. Each property counts its examples in ``fuzz_tally.TALLY`` (tests/unit/fuzz_tally.py),
       split by outcome: unhandled exceptions (raised, or logged by the server behind a
       4xx), 5xx answers, other property violations. Counts include the examples
       hypothesis replays while shrinking a failure: any non-zero figure is a failure.

Output
    pytest's report of any falsifying example, then one line per target and a total
    line, and the wall time. Exit status 0 only when every property passed, nothing was
    unhandled, no answer was a 5xx, and at least ``--total`` examples ran.

Usage
    python scripts/fuzz.py                  # 100,000 examples in total
    python scripts/fuzz.py --total 5000     # a quicker look
    python scripts/fuzz.py --seed 42 -k callback
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ["tests/unit/test_fuzz_properties.py", "tests/endpoints/test_fuzz_endpoints.py"]
PYTEST_OPTIONS = ["-p", "no:cacheprovider", "-q", "--tb=short", "--show-capture=no", "-W", "ignore::DeprecationWarning"]


def count_properties(selection: list[str]) -> int:
    """How many fuzz properties pytest collects (in a child process: importing the test
    modules here would fix their example count before it is set)."""
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *PYTEST_OPTIONS[:2], *selection, *FILES],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    properties = [line for line in listing.stdout.splitlines() if "::" in line]
    if listing.returncode != 0 or not properties:
        sys.exit(f"could not collect the fuzz properties:\n{listing.stdout}\n{listing.stderr}")
    return len(properties)


def print_table(tally: dict, wall_seconds: float) -> tuple[int, bool]:
    """One line per target and a total line; returns (examples, any failure)."""
    header = (f"{'target':<22} {'properties':>10} {'examples':>9} {'unhandled':>9} {'5xx':>5} {'violations':>10} "
              f"{'seconds':>8}  verdict")
    print(header)
    print("-" * len(header))
    total = {"properties": 0, "examples": 0, "unhandled": 0, "server_errors": 0, "violations": 0, "seconds": 0.0}
    for target, counts in tally.items():
        print(f"{target:<22} {len(counts.properties):>10} {counts.examples:>9,} {counts.unhandled:>9} "
              f"{counts.server_errors:>5} {counts.violations:>10} {counts.seconds:>8.1f}  "
              f"{'FAIL' if counts.failed else 'ok'}")
        total["properties"] += len(counts.properties)
        for key in ("examples", "unhandled", "server_errors", "violations", "seconds"):
            total[key] += getattr(counts, key)
    print("-" * len(header))
    failed = bool(total["unhandled"] or total["server_errors"] or total["violations"])
    print(f"{'total':<22} {total['properties']:>10} {total['examples']:>9,} {total['unhandled']:>9} "
          f"{total['server_errors']:>5} {total['violations']:>10} {total['seconds']:>8.1f}  "
          f"{'FAIL' if failed else 'ok'}")
    print(f"wall time {wall_seconds:.0f} s ('seconds': time spent inside the properties, generation excluded)")
    return total["examples"], failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--total", type=int, default=100_000, help="examples to run in total (default 100,000)")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (random by default)")
    parser.add_argument("-k", dest="keyword", default=None, help="only the properties matching this pytest -k")
    args = parser.parse_args()

    selection = ["-k", args.keyword] if args.keyword else []
    properties = count_properties(selection)
    per_property = math.ceil(args.total / properties)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"{properties} properties x {per_property:,} examples (>= {args.total:,} in total), "
          f"hypothesis seed {seed}", flush=True)

    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT / "tests" / "unit"))
    os.environ["STAUTH_FUZZ_EXAMPLES"] = str(per_property)
    import pytest  # after the variable is set: the test modules read it when imported

    started = time.monotonic()
    status = pytest.main([*PYTEST_OPTIONS, f"--hypothesis-seed={seed}", *selection, *FILES])
    wall = time.monotonic() - started

    from fuzz_tally import TALLY  # the module the tests counted into

    print()
    examples, failed = print_table(TALLY, wall)
    missing = properties - sum(len(counts.properties) for counts in TALLY.values())
    if missing:
        print(f"{missing} collected properties never ran an example")
    if examples < args.total:
        print(f"only {examples:,} examples ran (wanted {args.total:,})"
              + (": failing properties stop at their first failure" if failed else ""))
    ok = status == 0 and not failed and not missing and examples >= args.total
    print("PASS" if ok else f"FAIL (pytest exit status {int(status)}); rerun with --seed {seed} to repeat")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
