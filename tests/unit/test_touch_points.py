"""Every Streamlit internal we touch, checked on both CI virtualenvs (1.56.0 and 1.67.0) by
``scripts/check_touch_points.py``: fails loudly, naming the touch point, when Streamlit moves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHONS = {"st156": sys.executable, "st167": str(REPO / ".venv-st167" / "bin" / "python")}


@pytest.mark.parametrize("name", list(PYTHONS))
def test_every_touch_point_is_where_we_expect_it(name):
    python = PYTHONS[name]
    if not Path(python).exists():
        pytest.fail(f"{python} is missing: run scripts/setup-test-env.sh")
    result = subprocess.run([python, str(REPO / "scripts" / "check_touch_points.py")],
                            capture_output=True, text=True, timeout=300)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, "\n".join(line for line in lines if not line.startswith("OK")) + result.stderr
    assert sum(line.startswith("OK") for line in lines) >= 40
    assert lines[-1] == "# 0 failure(s)"
