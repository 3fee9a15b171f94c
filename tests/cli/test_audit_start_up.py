"""``streamlit-auth run`` with ``[auth.audit]``: a wrong table or an unwritable file stops
start-up (exit code 2) before any server exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_start_up_refusals import app_dir, assert_refused, start

SECRETS = """
[auth]
cookie_secret = "an-operator-generated-secret-0123456789abcdef"
[auth.audit]
"""


@pytest.mark.parametrize("table, phrase", [
    ('file = ""', "[auth.audit] file: expected the path"),
    ('file = "audit.jsonl"\nbackups = 0', "[auth.audit] backups: expected a positive integer"),
])
def test_a_wrong_audit_table_stops_start_up(tmp_path: Path, table: str, phrase: str):
    folder = app_dir(tmp_path, SECRETS + table)
    assert_refused(start(folder, "app.py", "--server.address", "127.0.0.1"), phrase)


def test_an_audit_file_that_cannot_be_written_stops_start_up(tmp_path: Path):
    folder = app_dir(tmp_path, SECRETS + 'file = "blocker/audit.jsonl"')
    (folder / "blocker").write_text("a file where a folder should be")
    assert_refused(start(folder, "app.py", "--server.address", "127.0.0.1"), "[auth.audit] file: cannot write")
