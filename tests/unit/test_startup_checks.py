"""Refused start-ups (stauth_server.cli.startup_checks): demo credentials off loopback,
and what Streamlit 1.56 would serve without us (useStarlette, ASGI app scripts)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from stauth_server.core.errors import ConfigError
from stauth_server.core.sources.local import UsersFile, render
from stauth_server.cli.startup_checks import (
    DEMO_COOKIE_SECRETS,
    DEMO_PASSWORD_HASHES,
    StartupRefused,
    asgi_app_problem,
    demo_accounts_in,
    demo_on_network_problem,
    demo_secrets_in,
    is_loopback,
    starlette_server_problem,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
DEMO_SECRET = "demo-only-cookie-secret-do-not-use-in-production-0"
OWN_SECRET = "an-operator-generated-secret-0123456789abcdef"


def copy_of_demo_users(app_dir: Path, name: str = "staff.toml") -> Path:
    """The demo accounts rewritten under another name, as `streamlit-auth users` writes files."""
    path = app_dir / name
    path.write_text(render(UsersFile(EXAMPLES / "demo_users.toml").accounts().values()), encoding="utf-8")
    return path


# --- loopback ------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["localhost", "LOCALHOST", "localhost.", "127.0.0.1", "127.8.9.10",
                                     "::1", "[::1]", "::ffff:127.0.0.1"])
def test_loopback_addresses_count_as_this_computer_only(address):
    assert is_loopback(address) is True


@pytest.mark.parametrize("address", [None, "", "0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "2001:db8::1",
                                     "app.example.org", "localhost.example.org", "unix:///tmp/app.sock"])
def test_unset_wildcard_and_other_addresses_are_reachable_from_elsewhere(address):
    assert is_loopback(address) is False


# --- the published demo material is known -----------------------------------------------


def test_every_cookie_secret_published_in_examples_and_readme_is_a_known_demo_secret():
    published = {
        name: re.findall(r'cookie_secrets? = "([^"]{32,})"', (REPO / name).read_text())
        for name in ("examples/.streamlit/secrets.toml", "README.md")
    }
    assert published["examples/.streamlit/secrets.toml"] == [DEMO_SECRET]
    assert published["README.md"], "the README's sign-in example shows no cookie_secret any more"
    assert {secret for found in published.values() for secret in found} <= set(DEMO_COOKIE_SECRETS)


def test_every_account_of_the_demo_users_file_has_a_known_demo_hash():
    accounts = UsersFile(EXAMPLES / "demo_users.toml").accounts()
    assert {account.password_hash for account in accounts.values()} == DEMO_PASSWORD_HASHES
    assert demo_accounts_in(EXAMPLES / "demo_users.toml") == ["alice", "bob"]


# --- demo credentials off loopback ---------------------------------------------------------


def test_demo_secret_on_a_network_address_is_refused_saying_what_to_change():
    problem = demo_on_network_problem("0.0.0.0", "a flag", {"cookie_secret": DEMO_SECRET}, None)
    assert problem is not None
    assert "server.address = '0.0.0.0' (from a flag)" in problem
    assert "cookie_secret is the published demo secret from examples/.streamlit/secrets.toml" in problem
    assert "token_urlsafe(32)" in problem and "--server.address localhost" in problem


def test_demo_secret_with_no_address_is_refused_as_every_interface():
    problem = demo_on_network_problem(None, "<default>", {"cookie_secret": DEMO_SECRET}, None)
    assert problem is not None and "every network interface (server.address is not set)" in problem


def test_readme_placeholder_secret_is_refused_too():
    problem = demo_on_network_problem("", "<default>", {"cookie_secret": "at-least-32-random-characters..."}, None)
    assert problem is not None and "the README's sign-in example" in problem


def test_demo_secret_kept_as_an_older_rotation_secret_still_counts():
    assert demo_secrets_in({"cookie_secrets": [OWN_SECRET, DEMO_SECRET]}) == ["examples/.streamlit/secrets.toml"]
    assert demo_secrets_in({"cookie_secret": f" {DEMO_SECRET}\n"}) == ["examples/.streamlit/secrets.toml"]


@pytest.mark.parametrize("address", ["localhost", "127.0.0.1", "::1"])
def test_demo_credentials_on_loopback_are_allowed(address):
    auth = {"cookie_secret": DEMO_SECRET, "local": {"users_file": "demo_users.toml"}}
    assert demo_on_network_problem(address, "a flag", auth, EXAMPLES) is None


def test_own_secret_and_accounts_on_a_network_address_are_fine(tmp_path):
    users = copy_of_demo_users(tmp_path, "users.toml")
    users.write_text(users.read_text().replace("$argon2id$", "$argon2id$own-"))
    auth = {"cookie_secret": OWN_SECRET, "local": {"users_file": "users.toml"}}
    assert demo_on_network_problem("0.0.0.0", "a flag", auth, tmp_path) is None


def test_demo_users_file_is_recognised_by_content_under_any_name(tmp_path):
    copy_of_demo_users(tmp_path)
    auth = {"cookie_secret": OWN_SECRET, "local": {"users_file": "staff.toml"}}
    problem = demo_on_network_problem(None, "<default>", auth, tmp_path)
    assert problem is not None
    assert f"{tmp_path / 'staff.toml'} holds demo accounts whose passwords are published (alice, bob)" in problem
    assert "streamlit-auth users add" in problem
    assert "cookie_secret" not in problem


def test_demo_accounts_with_a_new_password_or_disabled_no_longer_count(tmp_path):
    path = copy_of_demo_users(tmp_path)
    accounts = UsersFile(path).accounts()
    path.write_text(render([dataclasses.replace(accounts["alice"], password_hash="$argon2id$v=19$new"),
                            dataclasses.replace(accounts["bob"], disabled=True)]))
    assert demo_accounts_in(path) == []


def test_a_missing_users_file_is_left_to_the_config_check(tmp_path):
    assert demo_accounts_in(tmp_path / "nope.toml") == []


# --- what Streamlit would serve without us ----------------------------------------------


def test_use_starlette_is_served_when_its_packages_are_installed(monkeypatch):
    import stauth_server.cli.startup_checks as checks

    monkeypatch.setattr(checks, "installed_version", lambda name: (1, 7, 0))
    assert starlette_server_problem(True, "/srv/app/.streamlit/config.toml") is None


def test_use_starlette_with_a_starlette_that_breaks_1_56_names_the_fix(monkeypatch):
    import stauth_server.cli.startup_checks as checks

    monkeypatch.setattr(checks, "installed_version", lambda name: (1, 10, 0))
    problem = starlette_server_problem(True, "command-line argument or environment variable")
    assert problem is not None
    assert "installed: 1.10.0" in problem and "pip install 'starlette<1.8'" in problem


def test_installed_version_reads_package_metadata():
    from stauth_server.cli.startup_checks import installed_version

    assert installed_version("streamlit") == (1, 56, 0)
    assert installed_version("no-such-package-anywhere") is None


def test_use_starlette_without_starlette_names_the_option_its_source_and_the_fix(monkeypatch):
    import stauth_server.cli.startup_checks as checks

    monkeypatch.setattr(checks.importlib.util, "find_spec", lambda name: None)
    problem = starlette_server_problem(True, "/srv/app/.streamlit/config.toml")
    assert problem is not None
    assert "server.useStarlette is true (from /srv/app/.streamlit/config.toml)" in problem
    assert "starlette, uvicorn, websockets are not installed" in problem and "set server.useStarlette to false" in problem


def test_the_tornado_server_passes():
    assert starlette_server_problem(False, "<default>") is None


@pytest.mark.parametrize("source", [
    "from streamlit.starlette import App\nmain = App('page.py')\n",
    "import fastapi\nmain = fastapi.FastAPI()\n",
    "from starlette.applications import Starlette\nmain: Starlette = Starlette()\n",
])
def test_script_defining_an_asgi_app_is_refused_naming_it(tmp_path, source):
    script = tmp_path / "dashboard.py"
    script.write_text(source)
    problem = asgi_app_problem(script)
    assert problem is not None
    assert "dashboard.py defines an ASGI app ('main')" in problem and "--routes" in problem


def test_plain_streamlit_script_passes(tmp_path):
    script = tmp_path / "app.py"
    script.write_text("import streamlit as st\nclass App: ...\napp = App()\nst.write('hi')\n")
    assert asgi_app_problem(script) is None


def test_a_refusal_is_a_config_error_so_start_up_exits_with_code_2():
    assert issubclass(StartupRefused, ConfigError)
