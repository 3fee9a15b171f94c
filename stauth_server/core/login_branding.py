"""The app's name and logo on the login page: ``[auth] login_title`` and ``login_logo``.

The login page is served before any script runs, so the app's own ``st.set_page_config``
and ``st.logo`` calls have not happened yet. Their values are read from the main
script's source instead, without running it: the first call with a literal string
(``st.set_page_config(page_title="Sales")``, ``st.logo("logo.png")``). Computed values
are not seen; set the keys then. Without a literal page title, the title is the main
script's file name made readable (``sales_dashboard.py`` -> ``Sales Dashboard``).

When neither names a logo, the first ``st.logo`` call with a file path or URL that any
script run makes (a computed path, a call in a page's script) is used from then on
(``ObservedLogo``, fed by ``patches/app_logo.py``); images given as bytes or arrays are
not, since they may be made per user. ``login_logo`` pins the logo.

A logo file is read once at start-up and put into the page as a ``data:`` URL (no route
of its own, nothing served from the app's folder); an ``https://`` URL is used as is.
"""

from __future__ import annotations

import ast
import base64
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigError

#: Image types a logo file may have, by file extension.
LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
              ".svg": "image/svg+xml", ".webp": "image/webp", ".ico": "image/x-icon"}
#: A logo larger than this is refused: it travels inside every login page.
MAX_LOGO_BYTES = 256 * 1024
MAX_TITLE = 120


@dataclass(frozen=True)
class LoginBranding:
    """What the login page shows above the form: the app's name and, optionally, its logo
    (a ``data:`` or ``http(s)`` URL)."""

    title: str = "Sign in"
    logo_url: str | None = None


def script_literals(script: Path) -> dict[str, str]:
    """``page_title`` and ``logo`` as literal strings in the script's ``set_page_config`` and
    ``logo`` calls (any module alias); absent when not literal or the script cannot be parsed."""
    try:
        tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return {}
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr == "set_page_config":
            value = _literal(node, "page_title")
            if value:
                found.setdefault("page_title", value)
        elif node.func.attr == "logo":
            value = _literal(node, "image")
            if value:
                found.setdefault("logo", value)
    return found


def _literal(call: ast.Call, keyword: str) -> str | None:
    """The call's first positional argument or ``keyword=``, when a literal string."""
    candidates = [call.args[0]] if call.args else []
    candidates += [k.value for k in call.keywords if k.arg == keyword]
    for node in candidates:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
            return node.value.strip()
    return None


def readable_name(script: Path) -> str:
    """``sales_dashboard.py`` -> ``Sales Dashboard``."""
    words = script.stem.replace("_", " ").replace("-", " ").split()
    return " ".join(word[:1].upper() + word[1:] for word in words) or "Sign in"


def logo_url(value: str, app_dir: Path, key: str = "[auth] login_logo") -> str:
    """An http(s) URL as is, else a file beside the app as a ``data:`` URL (ConfigError)."""
    parts = urlsplit(value)
    if parts.scheme in ("http", "https"):
        if not parts.netloc or any(c in value for c in "\"'<> \r\n"):
            raise ConfigError(f"{key}: expected an http(s) URL or an image file beside the app, got {value!r}")
        return value
    path = app_dir / value
    kind = LOGO_TYPES.get(path.suffix.lower())
    if kind is None:
        raise ConfigError(f"{key}: expected an image file ({', '.join(sorted(LOGO_TYPES))}) or an https URL, "
                          f"got {value!r}")
    try:
        data = path.read_bytes()
    except OSError:
        raise ConfigError(f"{key}: {path} cannot be read (a path is relative to the app's folder)") from None
    if len(data) > MAX_LOGO_BYTES:
        raise ConfigError(f"{key}: {path} is {len(data)} bytes; a login logo may have at most {MAX_LOGO_BYTES}")
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def resolve_branding(title: str | None, logo: str | None, app_dir: Path, main_script: Path | None) -> LoginBranding:
    """The configured title and logo, else what the main script says (see the module doc)."""
    found = script_literals(main_script) if main_script is not None else {}
    chosen_title = title or found.get("page_title") or (readable_name(main_script) if main_script else "Sign in")
    chosen_logo = logo_url(logo, app_dir) if logo else None
    if chosen_logo is None and "logo" in found:
        try:
            chosen_logo = logo_url(found["logo"], app_dir, key=f"st.logo in {main_script.name}")  # type: ignore[union-attr]
        except ConfigError:
            chosen_logo = None  # the app's own logo is a bonus: never a reason not to start
    return LoginBranding(title=chosen_title[:MAX_TITLE], logo_url=chosen_logo)


class ObservedLogo:
    """The app's logo as its scripts show it: the first ``st.logo`` image given as a file
    path (relative to the server's working folder, as Streamlit reads it) or an http(s)
    URL that makes a valid login logo. Later calls change nothing."""

    #: Distinct values tried before giving up (each may read a file once).
    MAX_TRIES = 8

    def __init__(self) -> None:
        self._url: str | None = None
        self._tried: set[str] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str | None:
        """A ``data:`` or http(s) URL, once a script has shown a usable logo."""
        return self._url

    def offer(self, image: object, base: Path) -> None:
        """Called with ``st.logo``'s ``image`` argument; never raises."""
        if self._url is not None:
            return
        if isinstance(image, os.PathLike):
            image = os.fspath(image)
        if not isinstance(image, str) or not image.strip():
            return
        with self._lock:
            if self._url is not None or image in self._tried or len(self._tried) >= self.MAX_TRIES:
                return
            self._tried.add(image)
            try:
                self._url = logo_url(image.strip(), base, key="st.logo")
            except ConfigError:
                return

    def reset(self) -> None:
        """Forget what was seen (tests; a server started again in the same process)."""
        with self._lock:
            self._url = None
            self._tried.clear()


#: The one observer of the running app's ``st.logo`` calls.
OBSERVED_LOGO = ObservedLogo()
