"""The login page's title and logo: ``[auth] login_title`` / ``login_logo``, else the main
script's literal ``st.set_page_config(page_title=...)`` / ``st.logo(...)``, else its name."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path

import pytest

from stauth_server.core.config import parse_server_config
from stauth_server.core.errors import ConfigError
from stauth_server.core.login_branding import MAX_LOGO_BYTES, readable_name, resolve_branding, script_literals
from stauth_server.web.pages import login_page

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_literal_page_title_and_logo_are_read_from_the_script_without_running_it(tmp_path):
    script = write(tmp_path / "app.py", 'import streamlit as st\nraise SystemExit("never run")\n'
                   'st.set_page_config(layout="wide", page_title="Sales Cockpit")\nst.logo("brand/logo.png")\n')
    assert script_literals(script) == {"page_title": "Sales Cockpit", "logo": "brand/logo.png"}


def test_computed_values_and_broken_scripts_are_not_guessed(tmp_path):
    computed = write(tmp_path / "a.py", "import streamlit as st\nst.set_page_config(page_title=NAME)\nst.logo(path)\n")
    assert script_literals(computed) == {}
    assert script_literals(write(tmp_path / "b.py", "def (:\n")) == {}
    assert script_literals(tmp_path / "missing.py") == {}


def test_the_fallback_title_is_the_script_name_made_readable():
    assert readable_name(Path("sales_dashboard.py")) == "Sales Dashboard"
    assert readable_name(Path("my-app.py")) == "My App"


def test_config_wins_over_the_script(tmp_path):
    (tmp_path / "logo.png").write_bytes(PNG)
    (tmp_path / "other.png").write_bytes(PNG[:-1])
    script = write(tmp_path / "app.py", 'st.set_page_config(page_title="From script")\nst.logo("other.png")\n')
    branding = resolve_branding("From config", "logo.png", tmp_path, script)
    assert branding.title == "From config"
    assert branding.logo_url == "data:image/png;base64," + base64.b64encode(PNG).decode()
    from_script = resolve_branding(None, None, tmp_path, script)
    assert from_script.title == "From script" and from_script.logo_url.endswith(base64.b64encode(PNG[:-1]).decode())


def test_an_st_logo_url_is_used_and_an_unusable_one_is_dropped(tmp_path):
    script = write(tmp_path / "app.py", 'st.logo("https://cdn.example.org/logo.svg")\n')
    assert resolve_branding(None, None, tmp_path, script).logo_url == "https://cdn.example.org/logo.svg"
    broken = write(tmp_path / "b.py", 'st.logo("missing.png")\n')
    assert resolve_branding(None, None, tmp_path, broken).logo_url is None


@pytest.mark.parametrize("value,message", [
    ("javascript:alert(1)", "image file"),
    ("logo.exe", "image file"),
    ("missing.png", "cannot be read"),
    ('https://x.example/a.png" onerror="alert(1)', "http"),
    ("https://", "http"),
])
def test_a_bad_login_logo_stops_start_up(tmp_path, value, message):
    with pytest.raises(ConfigError, match=message):
        resolve_branding(None, value, tmp_path, None)


def test_a_logo_too_big_for_a_page_stops_start_up(tmp_path):
    (tmp_path / "big.png").write_bytes(b"\0" * (MAX_LOGO_BYTES + 1))
    with pytest.raises(ConfigError, match="at most"):
        resolve_branding(None, "big.png", tmp_path, None)


def auth(**keys):
    return {"cookie_secret": "c" * 32, "local": {"users_file": "users.toml"}, **keys}


def test_the_config_keys_are_parsed(tmp_path):
    (tmp_path / "users.toml").write_text("")
    (tmp_path / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    config = parse_server_config(auth(login_title="Portal", login_logo="logo.svg", password_source_chooser=True),
                                 tmp_path, tmp_path / "app.py")
    assert config.password_source_chooser is True and config.login_branding.title == "Portal"
    assert config.login_branding.logo_url.startswith("data:image/svg+xml;base64,")
    default = parse_server_config(auth(), tmp_path, write(tmp_path / "team_reports.py", "print(1)\n"))
    assert default.password_source_chooser is False and default.login_branding.title == "Team Reports"


@pytest.mark.parametrize("keys", [{"password_source_chooser": "yes"}, {"login_title": ""}, {"login_title": 3},
                                  {"login_logo": "logo.bmp"}])
def test_bad_values_stop_start_up(tmp_path, keys):
    (tmp_path / "users.toml").write_text("")
    with pytest.raises(ConfigError):
        parse_server_config(auth(**keys), tmp_path)


# --- the page -------------------------------------------------------------------------------

class Parsed(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.images: list[dict] = []
        self.texts: dict[str, str] = {}
        self._tag = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self._tag = tag
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_data(self, data):
        self.texts[self._tag] = self.texts.get(self._tag, "") + data


def page(**kwargs) -> str:
    return login_page("/auth/login", [], "/", password_sources=["local"], xsrf_form_html="", **kwargs)


def test_the_page_shows_the_apps_title_and_logo():
    parsed = Parsed(page(title="Sales Cockpit", logo_url="data:image/png;base64,AAAA"))
    assert parsed.texts["h1"] == "Sales Cockpit" and parsed.texts["title"] == "Sign in · Sales Cockpit"
    assert parsed.images == [{"class": "logo", "alt": "Sales Cockpit", "src": "data:image/png;base64,AAAA"}]
    assert "Sign in to continue" in parsed.texts["p"]


def test_title_and_logo_cannot_inject_markup():
    html = page(title='</title><script>alert(1)</script>"><img src=x onerror=alert(2)>',
                logo_url='https://x.example/a.png" onerror="alert(3)')
    assert "<script>" not in html and "<img src=x" not in html and '" onerror=' not in html
    parsed = Parsed(html)
    assert [image["src"] for image in parsed.images] == ['https://x.example/a.png" onerror="alert(3)']
    assert set(parsed.images[0]) == {"class", "alt", "src"}
    assert parsed.texts["h1"].startswith("</title><script>")


def test_a_custom_template_gets_the_title_and_logo():
    html = login_page("/auth/login", [], "/", password_sources=["local"], xsrf_form_html="",
                      title="<Acme>", logo_url="https://cdn.example.org/l.png",
                      template="<h1>$app_title</h1>$logo$login_form")
    assert html.startswith("<h1>&lt;Acme&gt;</h1><img class=logo") and "name=password" in html


# --- the logo a script shows at run time (patches/app_logo.py) ---------------------------------

def test_the_first_usable_st_logo_path_becomes_the_observed_logo_and_stays(tmp_path):
    from stauth_server.core.login_branding import ObservedLogo

    (tmp_path / "a.png").write_bytes(PNG)
    (tmp_path / "b.png").write_bytes(PNG + b"x")
    seen = ObservedLogo()
    assert seen.url is None
    seen.offer("missing.png", tmp_path)  # unreadable: ignored, never raises
    seen.offer("notes.txt", tmp_path)  # not an image type
    seen.offer(b"\x89PNG...", tmp_path)  # bytes may be made per user: never taken
    seen.offer(None, tmp_path)
    assert seen.url is None
    seen.offer(tmp_path / "a.png", tmp_path)  # a PathLike counts
    assert seen.url == "data:image/png;base64," + base64.b64encode(PNG).decode()
    seen.offer("b.png", tmp_path)
    assert seen.url == "data:image/png;base64," + base64.b64encode(PNG).decode()  # the first one stays
    seen.reset()
    seen.offer("https://cdn.example.org/logo.png", tmp_path)
    assert seen.url == "https://cdn.example.org/logo.png"


def test_a_huge_or_hostile_observed_logo_is_ignored_and_a_flood_of_values_is_bounded(tmp_path):
    from stauth_server.core.login_branding import ObservedLogo

    (tmp_path / "big.png").write_bytes(b"\0" * (MAX_LOGO_BYTES + 1))
    seen = ObservedLogo()
    seen.offer("big.png", tmp_path)
    seen.offer('https://x.example/"><script>', tmp_path)
    for index in range(ObservedLogo.MAX_TRIES):
        seen.offer(f"missing-{index}.png", tmp_path)
    (tmp_path / "late.png").write_bytes(PNG)
    seen.offer("late.png", tmp_path)  # past MAX_TRIES: no more files are read
    assert seen.url is None


def test_the_patch_offers_every_st_logo_image_and_leaves_the_call_unchanged(tmp_path, monkeypatch):
    import streamlit as st

    from stauth_server.core.login_branding import OBSERVED_LOGO
    from stauth_server.patches import app_logo

    calls = []
    original = st.logo
    monkeypatch.setattr(st, "logo", lambda image, *args, **kwargs: calls.append((image, args, kwargs)) or "drawn")
    app_logo.apply()
    app_logo.apply()  # idempotent: one wrapper
    assert app_logo.is_applied()
    (tmp_path / "l.png").write_bytes(PNG)
    monkeypatch.chdir(tmp_path)
    assert st.logo("l.png", size="large") == "drawn"
    assert calls == [("l.png", (), {"size": "large"})]
    assert OBSERVED_LOGO.url is not None and OBSERVED_LOGO.url.startswith("data:image/png;base64,")
    assert original is not st.logo
