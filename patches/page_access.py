"""Enforce ``[auth.access]`` and ``require_login`` before a page's script runs.

Touch point: ``streamlit.commands.navigation._navigation``, which both ``st.navigation``
and the ``pages/`` folder (``script_runner._mpa_v1``) call to pick the page to run. The
wrapper removes pages the user may not open (so they leave the navigation and their URL
reaches nothing) and, when the requested page is one of them, sends a visitor to sign in
or shows a signed-in user the 403 view instead of running it. The ``@sa.middleware``
chain runs first, for the requested page (``streamlit/page_middleware.py``). Verified: Streamlit 1.56.0 to 1.67.0 (``scripts/check_touch_points.py``; end to end on 1.56.0 and 1.67.0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stauth_server.core import access
from stauth_server.streamlit import internals, page_middleware
from stauth_server.core.guards import Decision

VERIFIED_VERSIONS = internals.SUPPORTED_VERSIONS
_ORIGINAL: Any = None


def page_names(page: Any, main_dir: Path | None) -> list[str]:
    """Every name a rule may use for a page: its url path and its file."""
    names = [page.url_path, getattr(page, "_url_path", "") or ""]
    source = getattr(page, "_page", None)
    if isinstance(source, Path):
        names.append(source.name)
        if main_dir is not None and source.is_relative_to(main_dir):
            names.append(str(source.relative_to(main_dir)))  # pages are absolute paths already
    return [n for n in names if n is not None]


def _flatten(pages: Sequence[Any] | Mapping[str, Sequence[Any]]) -> list[Any]:
    if isinstance(pages, Mapping):
        return [p for section in pages.values() for p in section]
    return list(pages)


def _keep(pages: Sequence[Any] | Mapping[str, Sequence[Any]], allowed: set[int]) -> Any:
    if isinstance(pages, Mapping):
        kept = {header: [p for p in section if id(p) in allowed] for header, section in pages.items()}
        return {header: section for header, section in kept.items() if section}
    return [p for p in pages if id(p) in allowed]


def guarded_navigation(pages: Any, *, position: Any, expanded: Any) -> Any:
    """``_navigation`` with the pages this user may not open removed or refused."""
    rules = access.RULES
    if not rules.active and not page_middleware.active():
        return _ORIGINAL(pages, position=position, expanded=expanded)
    from stauth_server.streamlit.script_api import current_user, enforce

    ctx = internals.script_run_ctx()
    main_dir = Path(ctx.main_script_path).resolve().parent if ctx is not None else None
    user = current_user()
    normalized = _normalized(pages)
    page_list = _flatten(normalized)
    decisions = {id(p): rules.decide(user, page_names(p, main_dir)) for p in page_list}
    wanted = internals.requested_page(ctx, page_list)
    if wanted is not None and page_middleware.active():  # @sa.middleware, before the page rules
        page_middleware.run_for_page(wanted.url_path or "")
    refused = decisions.get(id(wanted), Decision.ALLOW) if wanted is not None else Decision.ALLOW
    allowed = {key for key, decision in decisions.items() if decision is Decision.ALLOW}
    if refused is Decision.ALLOW and not allowed:
        refused = Decision.SIGN_IN if not user.is_logged_in else Decision.FORBID
    rule = rules.rule_for(page_names(wanted, main_dir)) if wanted is not None else None
    enforce(refused, page=wanted.url_path if wanted is not None else "", roles=rule or (),
            rule="access" if rule else "require_login" if wanted is not None else "no_page_allowed")
    return _ORIGINAL(_keep(normalized, allowed), position=position, expanded=expanded)


def _normalized(pages: Any) -> Any:
    """The same structure with every entry as a StreamlitPage."""
    if isinstance(pages, Mapping):
        return {header: [internals.as_page(p) for p in section] for header, section in pages.items()}
    return [internals.as_page(p) for p in pages]


def apply() -> None:
    global _ORIGINAL
    module = internals.navigation_module()
    if module._navigation is guarded_navigation:
        return
    _ORIGINAL = module._navigation
    module._navigation = guarded_navigation


def is_applied() -> bool:
    return internals.navigation_module()._navigation is guarded_navigation
