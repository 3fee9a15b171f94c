"""``page_denied``: a page rule or ``sa.require`` refusing a page is one audit event naming
the page, the rule, the roles it needs and the page run's client."""

from __future__ import annotations

import json
import logging
import re
from types import MappingProxyType, SimpleNamespace

import pytest

from patches import page_access  # this checkout's patch, whatever an installed copy says
from stauth_server.core import access
from stauth_server.core.access import PageRules
from stauth_server.core.identity import ANONYMOUS, User
from stauth_server.streamlit import internals, script_api

from test_page_access import app_dir, pages  # noqa: F401 - fixtures

VIEWER = User(id="idp|vic", email="vic@example.org", roles=frozenset({"viewer"}))
AGENT = "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/156.0"


class StopRun(Exception):
    """What st.stop() does inside a script run."""


@pytest.fixture
def run(monkeypatch, app_dir, caplog):  # noqa: F811
    """A script run of ``user`` asking for ``wanted``; returns the audit events it wrote."""
    caplog.set_level(logging.INFO, logger="stauth.audit")
    state = SimpleNamespace(user=ANONYMOUS, wanted=None)
    monkeypatch.setattr(page_access, "_ORIGINAL", lambda pages, **kwargs: "ran")
    monkeypatch.setattr(internals, "script_run_ctx", lambda: SimpleNamespace(main_script_path=str(app_dir / "app.py")))
    monkeypatch.setattr(internals, "requested_page", lambda ctx, page_list: state.wanted)
    monkeypatch.setattr(internals, "stop_script", lambda: (_ for _ in ()).throw(StopRun()))
    monkeypatch.setattr(script_api, "current_user", lambda: state.user)
    monkeypatch.setattr(script_api, "login", lambda *a, **k: None)
    monkeypatch.setattr(script_api, "forbidden_view", lambda *a, **k: None)
    context = SimpleNamespace(url="http://127.0.0.1:8501/staff?x=1", ip_address=None, headers={"User-Agent": AGENT})
    monkeypatch.setattr(script_api, "st", SimpleNamespace(context=context))

    def events() -> list[dict]:
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == "stauth.audit"]

    state.events = events
    return state


def rules(monkeypatch, table: dict, require_login: bool = False) -> None:
    monkeypatch.setattr(access, "RULES", PageRules(MappingProxyType({k: tuple(v) for k, v in table.items()}),
                                                   require_login))


def navigate(page_list) -> None:
    with pytest.raises(StopRun):
        page_access.guarded_navigation(page_list, position="sidebar", expanded=False)


def test_a_user_refused_a_page_by_its_rule_is_audited(run, pages, monkeypatch):  # noqa: F811
    rules(monkeypatch, {"staff": ["staff", "admin"]})
    run.user, run.wanted = VIEWER, pages.staff
    navigate([pages.home, pages.staff])
    [event] = run.events()
    assert event["event"] == "page_denied" and event["user_id"] == "idp|vic"
    assert (event["page"], event["decision"], event["rule"], event["roles"]) == ("staff", "forbid", "access",
                                                                               ["staff", "admin"])
    assert (event["client_ip"], event["user_agent"], event["path"]) == ("127.0.0.1", AGENT, "/staff")
    assert re.fullmatch(r"[0-9a-f]{16}", event["request_id"])


def test_a_visitor_sent_to_sign_in_by_require_login_is_audited(run, pages, monkeypatch):  # noqa: F811
    rules(monkeypatch, {"about": []}, require_login=True)
    run.wanted = pages.staff
    navigate([pages.home, pages.staff, pages.about])
    [event] = run.events()
    assert (event["user_id"], event["page"], event["decision"], event["rule"], event["roles"]) == (
        None, "staff", "sign_in", "require_login", [])


def test_an_allowed_page_writes_nothing(run, pages, monkeypatch):  # noqa: F811
    rules(monkeypatch, {"staff": ["viewer"]})
    run.user, run.wanted = VIEWER, pages.staff
    assert page_access.guarded_navigation([pages.home, pages.staff], position="sidebar", expanded=False) == "ran"
    assert run.events() == []


def test_sa_require_refusing_is_audited_as_its_own_rule(run):
    run.user = VIEWER
    with pytest.raises(StopRun):
        script_api.require(roles=["admin"])
    [event] = run.events()
    assert (event["page"], event["decision"], event["rule"], event["roles"]) == ("staff", "forbid", "sa.require",
                                                                               ["admin"])
