"""Running an app's script under Streamlit's ``AppTest`` as a given user (the test kit's hook).

Under ``streamlit-auth run`` the server pushes each tab's identity into its session: the
``user_info`` dict ``st.user`` reads and the ``LIVE`` record that ``sa.user``,
``sa.require``, ``@sa.requires`` and the page rules read. ``AppTest`` runs a script with no
server, so ``SeatedAppTest`` does the same for each of its runs (first, after a widget,
after ``switch_page``): it gives the run's script runner a session id of its own and the
user's ``st.user`` dict, registers the user in ``LIVE``, applies the production patches
(``st.login``/``st.logout``, page rules) with the app's ``[auth.access]`` rules, and undoes
all of it when the run ends. Only ``stauth_server.testing`` creates one: nothing here is
active in production.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

from ..core import access
from ..core.identity import User, streamlit_user_info
from . import internals
from .live_sessions import LIVE

AppTest = internals.app_test_class()


class SeatedAppTest(AppTest):  # type: ignore[misc, valid-type]
    """An ``AppTest`` whose runs see ``user`` as the signed-in user (ANONYMOUS: a visitor)
    and whose pages are guarded by ``rules``, as under ``streamlit-auth run``."""

    def __init__(self, script_path: str, *, user: User, rules: access.PageRules, default_timeout: float) -> None:
        super().__init__(script_path, default_timeout=default_timeout)
        self.stauth_user = user
        self.stauth_rules = rules
        #: Like a browser tab's: one per AppTest, the same for all its runs.
        self.stauth_session_id = f"stauth-apptest-{secrets.token_hex(8)}"
        self._stauth_redirects: list[str] = []

    @property
    def redirected_to(self) -> str | None:
        """Where the last run sent the browser (``sa.login``, ``sa.require`` for a visitor,
        ``sa.redirect``, ``st.logout``...), as the served URL; None when it sent it nowhere."""
        return self._stauth_redirects[-1] if self._stauth_redirects else None

    @property
    def sent_to_sign_in(self) -> bool:
        """Whether the last run sent the browser to the sign-in page (``/auth/login``)."""
        from .app_paths import app_path

        target = self.redirected_to or ""
        return target.partition("?")[0] == app_path("/auth/login")

    def _run(self, widget_state: Any = None, timeout: float | None = None) -> Any:
        with self._seated() as redirects:
            result = super()._run(widget_state, timeout)
        self._stauth_redirects = redirects
        return result

    @contextlib.contextmanager
    def _seated(self) -> Iterator[list[str]]:
        """For one run: the identity, the patches and the page rules; the redirects it sent."""
        module = internals.app_test_module()
        original_runner = module.LocalScriptRunner
        session_id, user = self.stauth_session_id, self.stauth_user
        info = streamlit_user_info(user, {}, ())
        runners: list[Any] = []

        class SeatedRunner(original_runner):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                internals.seat_script_runner(self, session_id, info)
                runners.append(self)

        redirects: list[str] = []
        module.LocalScriptRunner = SeatedRunner
        LIVE.connect(session_id, None, None, user)
        try:
            with _production_patches(self.stauth_rules):
                yield redirects
        finally:
            module.LocalScriptRunner = original_runner
            LIVE.disconnect(session_id)
            for runner in runners:
                redirects.extend(internals.browser_redirects(runner))


@contextlib.contextmanager
def _production_patches(rules: access.PageRules) -> Iterator[None]:
    """What ``streamlit-auth run`` applies and installs, for the length of one run."""
    from ..patches import page_access, st_login

    navigation, streamlit_module, user_info = (internals.navigation_module(), internals.streamlit_module(),
                                              internals.user_info_module())
    saved = (navigation._navigation, streamlit_module.login, streamlit_module.logout, user_info.login,
             user_info.logout, access.RULES)
    page_access.apply()
    st_login.apply()
    access.install(rules)
    try:
        yield
    finally:
        (navigation._navigation, streamlit_module.login, streamlit_module.logout, user_info.login,
         user_info.logout, access.RULES) = saved
