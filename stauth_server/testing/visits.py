"""``as_user`` / ``as_visitor``: who runs an app's page under ``AppTest``, or calls a route."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.access import PageRules
from ..core.identity import ANONYMOUS, User, user_from_claims
from .app import AppPath, KitApp, load_app

if TYPE_CHECKING:
    from ..streamlit.app_tests import SeatedAppTest

#: The issuer of the users the kit makes up (``User.id`` is ``"<issuer>|<email>"``).
TEST_ISSUER = "https://stauth.test"
#: Their ``provider`` (what ``st.user.provider`` shows).
TEST_PROVIDER = "test"
#: Seconds an AppTest run may take before it fails (Streamlit's own default is 3).
DEFAULT_TIMEOUT = 10.0


class Visit:
    """Someone using the app: a signed-in user (``as_user``) or a visitor (``as_visitor``).

    ``run(page)`` runs a page under ``AppTest`` as them, with the app's page rules and
    guards enforced; pass ``user=visit`` to ``call_route`` to call a route as them.
    """

    def __init__(self, identity: Mapping[str, Any] | None, roles: Iterable[str] | None,
                 app: AppPath | None = None, secrets: Mapping[str, Any] | None = None) -> None:
        self._identity = dict(identity) if identity is not None else None
        self._roles = None if roles is None else tuple([roles] if isinstance(roles, str) else roles)
        self._app = app
        self._secrets = secrets

    @property
    def user(self) -> User:
        """The ``sa.User`` the app sees (roles from the app's ``[auth.roles]`` when not given)."""
        return self.user_for(self.app())

    def app(self, secrets: Mapping[str, Any] | None = None) -> KitApp:
        return load_app(self._app, secrets if secrets is not None else self._secrets)

    def user_for(self, app: KitApp) -> User:
        """The user as ``app`` would sign them in."""
        if self._identity is None:
            return ANONYMOUS
        claims = self._identity
        explicit = self._roles is not None
        return user_from_claims(claims, issuer=TEST_ISSUER, subject=str(claims["sub"]), provider=TEST_PROVIDER,
                                expires_at=None, role_rules=None if explicit else app.config.roles,
                                granted_roles=self._roles or ())

    def app_test(self, page: AppPath | None = None, *, secrets: Mapping[str, Any] | None = None,
                 default_timeout: float = DEFAULT_TIMEOUT) -> SeatedAppTest:
        """An ``AppTest`` of ``page``, not yet run, whose every run is made as this user.

        ``page``: a page of the app (``"pages/admin.py"``, from the app's folder) or None
        for its main page; without an app named (``stauth_app``), the script to run on its
        own. ``secrets`` replaces the app's ``.streamlit/secrets.toml`` (for the page rules,
        ``[auth.roles]`` and ``st.secrets`` alike).
        """
        from ..streamlit.app_tests import SeatedAppTest

        app = self.app(secrets)
        main, switch_to = _scripts(app, page)
        at = SeatedAppTest(str(main), user=self.user_for(app), rules=PageRules(app.config.access,
                           app.config.require_login), default_timeout=default_timeout)
        if app.secrets:
            at.secrets = dict(app.secrets)
        if switch_to is not None:
            at.switch_page(switch_to)
        return at

    def run(self, page: AppPath | None = None, *, secrets: Mapping[str, Any] | None = None,
            timeout: float = DEFAULT_TIMEOUT) -> SeatedAppTest:
        """Run ``page`` (see ``app_test``) as this user; returns the finished ``AppTest``.

        Besides what ``AppTest`` offers, it has ``redirected_to`` (where the run sent the
        browser) and ``sent_to_sign_in``.
        """
        return self.app_test(page, secrets=secrets, default_timeout=timeout).run()

    def __repr__(self) -> str:
        if self._identity is None:
            return "as_visitor()"
        return f"as_user({self._identity.get('email')!r})"


def _scripts(app: KitApp, page: AppPath | None) -> tuple[Path, str | None]:
    """The main script to start and the page to switch to (None: the main page)."""
    if app.main_script is None:
        if page is None:
            raise ValueError("name the script to run, or the app (the stauth_app fixture or ini option, or app=)")
        script = Path(page).resolve()
        if not script.is_file():
            raise FileNotFoundError(f"{page}: no such script (absolute, or relative to {Path.cwd()})")
        if script.parent.name == "pages":
            raise ValueError(f"{page} is a page of a multipage app: name the app's main script (the stauth_app "
                             "fixture or ini option, or app=) so that its page rules apply as in production")
        return script, None
    main = app.main_script
    if page is None:
        return main, None
    script = (main.parent / page).resolve()
    if script == main:
        return main, None
    if not script.is_file():
        raise FileNotFoundError(f"{page}: no such page in {main.parent}")
    return main, str(script.relative_to(main.parent))


def as_user(email: str, name: str | None = None, roles: Iterable[str] | None = None, groups: Iterable[str] = (),
            claims: Mapping[str, Any] | None = None, *, app: AppPath | None = None,
            secrets: Mapping[str, Any] | None = None) -> Visit:
    """A signed-in user, as a sign-in with a provider would give them.

    ``roles=None`` (the default): the roles the app's ``[auth.roles]`` gives this email,
    these groups and claims, as in production; ``roles=[...]``: exactly these (the
    ``[auth.roles]`` rules are not applied). ``claims`` are the provider's claims
    (``st.user`` shows them); ``groups`` go in the ``groups`` claim.
    """
    if not isinstance(email, str) or "@" not in email:
        raise ValueError(f"as_user: expected an email address, got {email!r}")
    identity: dict[str, Any] = {"iss": TEST_ISSUER, "sub": email, "email": email, "email_verified": True}
    if name is not None:
        identity["name"] = name
    groups = [groups] if isinstance(groups, str) else list(groups)
    if groups:
        identity["groups"] = groups
    identity.update(claims or {})
    return Visit(identity, roles, app, secrets)


def as_visitor(*, app: AppPath | None = None, secrets: Mapping[str, Any] | None = None) -> Visit:
    """Someone who has not signed in (``st.user.is_logged_in`` is False)."""
    return Visit(None, None, app, secrets)
