"""The kit on the other Streamlit generation: AppTest's internals that it relies on (its
``_run``, ``LocalScriptRunner``, the runner's ``_session_id``/``_user_info``) differ
between 1.56 and 1.67, so the 1.67 virtualenv runs the same checks in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
ST167 = REPO / ".venv-st167" / "bin" / "python"

CHECKS = '''
import streamlit
from stauth_server.testing import as_user, as_visitor, call_route

assert streamlit.__version__ == "1.67.0", streamlit.__version__
app = "tests/apps_for_kit/app.py"
admin = as_user("alice@example.org", name="Alice", roles=["admin"], app=app)
home = admin.run()
assert [m.value for m in home.markdown] == ["Hello, Alice", "Roles: admin"], home.markdown
assert [t.value for t in admin.run("pages/admin.py").title] == ["Admin"]
refused = as_user("bob@example.org", app=app).run("pages/reports.py")
assert [e.value for e in refused.error] == ["**403 Forbidden.** You do not have access to this page."]
assert as_visitor(app=app).run("pages/admin.py").sent_to_sign_in
signed_out = admin.run()
signed_out.button[0].click().run()
assert signed_out.redirected_to == "/auth/logout", signed_out.redirected_to
assert call_route("/api/kit/me", user=admin).json() == {"email": "alice@example.org", "roles": ["admin"]}
print("kit ok on", streamlit.__version__)
'''


def test_the_kit_works_on_streamlit_167():
    if not ST167.exists():
        pytest.fail(f"{ST167} is missing: run scripts/setup-test-env.sh")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([str(ST167), "-c", CHECKS], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kit ok on 1.67.0" in result.stdout
