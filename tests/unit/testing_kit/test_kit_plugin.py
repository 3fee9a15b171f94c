"""The pytest plugin as an app author gets it: from the ``pytest11`` entry point that
pyproject.toml declares, in a project of their own, at no cost to suites that never use it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
EXAMPLE_APP = REPO / "tests" / "apps_for_kit"

AUTHORS_TESTS = '''
def test_admin_page(as_user):
    at = as_user("alice@example.org", roles=["admin"]).run("pages/admin.py")
    assert [t.value for t in at.title] == ["Admin"]


def test_admin_page_for_a_visitor(as_visitor):
    assert as_visitor().run("pages/admin.py").sent_to_sign_in


def test_my_route(call_route, as_user):
    assert call_route("/api/kit/me", user=as_user("bob@example.org")).json() == {
        "email": "bob@example.org", "roles": []}
'''


def _installed_entry_point(site: Path) -> None:
    """A distribution on ``site`` whose ``entry_points.txt`` is pyproject.toml's pytest11 table."""
    table = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
    dist = site / "stauth_kit_probe-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: stauth-kit-probe\nVersion: 0\n")
    (dist / "entry_points.txt").write_text("[pytest11]\n" + "".join(f"{k} = {v}\n" for k, v in table.items()))


def _pytest(project: Path, site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), str(REPO), os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)


def test_an_app_authors_suite_gets_the_fixtures_from_the_entry_point(tmp_path):
    project, site = tmp_path / "project", tmp_path / "site"
    shutil.copytree(EXAMPLE_APP, project)
    (project / "pytest.ini").write_text("[pytest]\nstauth_app = app.py\n")
    (project / "test_app.py").write_text(AUTHORS_TESTS)
    _installed_entry_point(site)

    result = _pytest(project, site, "test_app.py")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_a_suite_that_uses_no_fixture_loads_neither_the_kit_nor_streamlit(tmp_path):
    project, site = tmp_path / "project", tmp_path / "site"
    project.mkdir()
    (project / "test_plain.py").write_text(textwrap.dedent('''
        import sys

        def test_plain(request):
            assert request.config.pluginmanager.has_plugin("stauth")
            loaded = sorted(m for m in sys.modules if m.split(".")[0] == "streamlit"
                            or m.startswith("stauth_server.testing."))
            assert loaded == ["stauth_server.testing.pytest_plugin"]
    '''))
    _installed_entry_point(site)

    result = _pytest(project, site, "test_plain.py")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
