"""The page-access patch: [auth.access] and require_login before a page runs."""

from __future__ import annotations

import sys
from pathlib import Path
from types import MappingProxyType, SimpleNamespace

import pytest
from streamlit.navigation.page import StreamlitPage

from stauth_server.core import access
from stauth_server.streamlit import script_api
from stauth_server.streamlit import internals
from stauth_server.core.access import PageRules
from stauth_server.core.identity import ANONYMOUS, User
from stauth_server.patches import page_access
from stauth_server.patches.page_access import _keep, _normalized, guarded_navigation, page_names

STAFF = User(id="idp|sam", email="sam@example.org", roles=frozenset({"staff"}))
VIEWER = User(id="idp|vic", email="vic@example.org", roles=frozenset({"viewer"}))


def home() -> None: ...
def staff() -> None: ...
def about() -> None: ...


@pytest.fixture
def app_dir(tmp_path, monkeypatch) -> Path:
    """StreamlitPage only fills in its fields inside a script run: give it one."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "admin.py").write_text("", encoding="utf-8")
    page_ctx = SimpleNamespace(pages_manager=SimpleNamespace(main_script_parent=tmp_path))
    monkeypatch.setattr(sys.modules["streamlit.navigation.page"], "get_script_run_ctx", lambda *a, **k: page_ctx)
    return tmp_path


@pytest.fixture
def pages(app_dir):
    return SimpleNamespace(
        home=StreamlitPage(home, title="Home", default=True),
        staff=StreamlitPage(staff, title="Staff", url_path="staff"),
        about=StreamlitPage(about, title="About", url_path="about"),
    )


class StopRun(Exception):
    """What st.stop() does inside a script run."""


class Script:
    """A script run as the patch sees it: user, requested page, and what it did."""

    def __init__(self, monkeypatch, app_dir: Path):
        self.user: User = ANONYMOUS
        self.wanted: StreamlitPage | None = None
        self.given: list[tuple] = []
        self.events: list[str] = []
        self.ctx = SimpleNamespace(main_script_path=str(app_dir / "app.py"))
        self.seen_by_requested_page: list = []

        def original(pages, *, position, expanded):
            self.given.append((pages, position, expanded))
            return "ran"

        def requested(ctx, page_list):
            self.seen_by_requested_page.append((ctx, list(page_list)))
            return self.wanted

        def stop():
            self.events.append("stop")
            raise StopRun

        monkeypatch.setattr(page_access, "_ORIGINAL", original)
        monkeypatch.setattr(internals, "script_run_ctx", lambda: self.ctx)
        monkeypatch.setattr(internals, "requested_page", requested)
        monkeypatch.setattr(internals, "stop_script", stop)
        monkeypatch.setattr(script_api, "current_user", lambda: self.user)
        monkeypatch.setattr(script_api, "login", lambda *a, **k: self.events.append("login"))
        monkeypatch.setattr(script_api, "forbidden_view", lambda *a, **k: self.events.append("forbidden"))

    def navigate(self, page_list, position="sidebar", expanded=False):
        return guarded_navigation(page_list, position=position, expanded=expanded)


@pytest.fixture
def script(monkeypatch, app_dir) -> Script:
    return Script(monkeypatch, app_dir)


def install(monkeypatch, access_map=None, require_login=False) -> None:
    rules = {page: tuple(roles) for page, roles in (access_map or {}).items()}
    monkeypatch.setattr(access, "RULES", PageRules(MappingProxyType(rules), require_login))


def url_paths(page_list) -> list[str]:
    return [p._url_path for p in page_list]


# --- page_names -----------------------------------------------------------------------

def test_a_callable_page_is_named_by_its_url_path(pages, app_dir):
    assert set(page_names(pages.staff, app_dir)) == {"staff"}


def test_the_default_page_is_named_by_its_own_url_path_too(pages, app_dir):
    names = page_names(pages.home, app_dir)
    assert pages.home.url_path == "" and "home" in names


def test_a_file_page_is_named_by_url_path_file_name_and_path_from_the_app_folder(app_dir):
    page = StreamlitPage(Path("pages/admin.py"))
    names = page_names(page, app_dir.resolve())
    assert {"admin", "admin.py", "pages/admin.py"} <= set(names)


def test_without_the_app_folder_a_file_page_has_no_relative_name(app_dir):
    names = page_names(StreamlitPage(Path("pages/admin.py")), None)
    assert "admin.py" in names and "pages/admin.py" not in names


def test_a_file_outside_the_app_folder_has_no_relative_name(app_dir, tmp_path_factory):
    other = tmp_path_factory.mktemp("elsewhere")
    names = page_names(StreamlitPage(Path("pages/admin.py")), other)
    assert "admin.py" in names and not any(n.endswith("pages/admin.py") for n in names)


# --- _keep and _normalized ------------------------------------------------------------

def test_keep_filters_a_list_in_order(pages):
    kept = _keep([pages.home, pages.staff, pages.about], {id(pages.about), id(pages.home)})
    assert kept == [pages.home, pages.about]


def test_keep_drops_sections_left_empty(pages):
    sections = {"Main": [pages.home, pages.about], "Admin": [pages.staff]}
    assert _keep(sections, {id(pages.home)}) == {"Main": [pages.home]}


def test_keep_of_nothing_allowed_is_empty(pages):
    assert _keep([pages.home], set()) == []
    assert _keep({"Main": [pages.home]}, set()) == {}


def test_normalized_keeps_pages_and_turns_callables_into_pages(pages):
    normalized = _normalized([pages.home, about])
    assert normalized[0] is pages.home
    assert isinstance(normalized[1], StreamlitPage) and normalized[1]._url_path == "about"


def test_normalized_keeps_sections(pages):
    normalized = _normalized({"Main": [pages.home], "More": [about]})
    assert list(normalized) == ["Main", "More"]
    assert normalized["Main"] == [pages.home] and isinstance(normalized["More"][0], StreamlitPage)


# --- guarded_navigation ---------------------------------------------------------------

def test_without_rules_the_pages_pass_through_untouched(script, pages, monkeypatch):
    install(monkeypatch)
    script.user = ANONYMOUS
    page_list = [pages.home, pages.staff]
    assert script.navigate(page_list, position="top", expanded=3) == "ran"
    assert script.given == [(page_list, "top", 3)]
    assert script.events == []


def test_a_visitor_does_not_see_a_role_page_in_the_navigation(script, pages, monkeypatch):
    install(monkeypatch, {"staff": ["staff"]})
    script.wanted = pages.home
    assert script.navigate([pages.home, pages.staff, pages.about]) == "ran"
    (given, _, _), = script.given
    assert given == [pages.home, pages.about]
    assert script.events == []


def test_a_visitor_asking_for_a_role_page_is_sent_to_sign_in_and_it_does_not_run(script, pages, monkeypatch):
    install(monkeypatch, {"staff": ["staff"]})
    script.wanted = pages.staff
    with pytest.raises(StopRun):
        script.navigate([pages.home, pages.staff])
    assert script.events == ["login", "stop"]
    assert script.given == []


def test_a_user_without_the_role_asking_for_the_page_sees_the_403_view(script, pages, monkeypatch):
    install(monkeypatch, {"staff": ["staff"]})
    script.user, script.wanted = VIEWER, pages.staff
    with pytest.raises(StopRun):
        script.navigate([pages.home, pages.staff])
    assert script.events == ["forbidden", "stop"]
    assert script.given == []


def test_a_user_with_the_role_gets_every_page_and_the_original_arguments(script, pages, monkeypatch):
    install(monkeypatch, {"staff": ["staff"]})
    script.user, script.wanted = STAFF, pages.staff
    assert script.navigate([pages.home, pages.staff], position="hidden", expanded=True) == "ran"
    assert script.given == [([pages.home, pages.staff], "hidden", True)]
    assert script.events == []


def test_require_login_leaves_a_visitor_only_the_public_pages(script, pages, monkeypatch):
    install(monkeypatch, {"about": ()}, require_login=True)
    script.wanted = pages.about
    script.navigate([pages.home, pages.staff, pages.about])
    assert script.given[0][0] == [pages.about]
    assert script.events == []


def test_require_login_sends_a_visitor_on_the_default_page_to_sign_in(script, pages, monkeypatch):
    install(monkeypatch, {"about": ()}, require_login=True)
    script.wanted = pages.home
    with pytest.raises(StopRun):
        script.navigate([pages.home, pages.about])
    assert script.events == ["login", "stop"]


def test_require_login_lets_any_signed_in_user_through(script, pages, monkeypatch):
    install(monkeypatch, require_login=True)
    script.user, script.wanted = VIEWER, pages.home
    script.navigate([pages.home, pages.about])
    assert script.given[0][0] == [pages.home, pages.about]


def test_a_visitor_with_no_page_left_is_sent_to_sign_in(script, pages, monkeypatch):
    install(monkeypatch, require_login=True)
    script.wanted = None
    with pytest.raises(StopRun):
        script.navigate([pages.home, pages.about])
    assert script.events == ["login", "stop"]


def test_a_signed_in_user_with_no_page_left_sees_the_403_view(script, pages, monkeypatch):
    install(monkeypatch, {"home": ["staff"], "about": ["staff"]})
    script.user, script.wanted = VIEWER, None
    with pytest.raises(StopRun):
        script.navigate([pages.home, pages.about])
    assert script.events == ["forbidden", "stop"]


def test_sections_lose_the_pages_and_sections_the_user_may_not_open(script, pages, monkeypatch):
    install(monkeypatch, {"staff": ["staff"]})
    script.wanted = pages.home
    script.navigate({"Main": [pages.home, pages.about], "Admin": [pages.staff]})
    assert script.given[0][0] == {"Main": [pages.home, pages.about]}


def test_callables_are_judged_by_their_url_path(script, pages, monkeypatch):
    install(monkeypatch, {"staff": ["staff"]})
    script.wanted = None
    script.navigate([home, staff])
    given = script.given[0][0]
    assert all(isinstance(p, StreamlitPage) for p in given)
    assert url_paths(given) == ["home"]


def test_requested_page_gets_the_context_and_every_page(script, pages, monkeypatch):
    install(monkeypatch, {"staff": ["staff"]})
    script.wanted = pages.home
    script.navigate({"Main": [pages.home], "Admin": [pages.staff]})
    assert script.seen_by_requested_page == [(script.ctx, [pages.home, pages.staff])]


def test_a_rule_naming_the_pages_file_applies(script, app_dir, monkeypatch):
    install(monkeypatch, {"pages/admin.py": ["admin"]})
    admin = StreamlitPage(Path("pages/admin.py"))
    main = StreamlitPage(home, title="Home", default=True)
    script.ctx.main_script_path = str(app_dir.resolve() / "app.py")
    script.user, script.wanted = VIEWER, main
    script.navigate([main, admin])
    assert script.given[0][0] == [main]


# --- apply ----------------------------------------------------------------------------

def test_apply_wraps_navigation_once(monkeypatch):
    module = internals.navigation_module()
    real = module._navigation if module._navigation is not guarded_navigation else page_access._ORIGINAL
    monkeypatch.setattr(module, "_navigation", real)
    monkeypatch.setattr(page_access, "_ORIGINAL", None)
    assert not page_access.is_applied()
    page_access.apply()
    page_access.apply()
    assert page_access.is_applied()
    assert module._navigation is guarded_navigation
    assert page_access._ORIGINAL is real
