"""``[auth] userinfo`` against the real OP (tests/op/op.mjs), counted in the OP's own log
(one ``userinfo-request`` line per request to its userinfo endpoint):

* "auto" with an OP that puts email, name and groups into the ID token: no userinfo call,
  and the user still has them (the role from ``group:admins`` included);
* "never": no call either;
* "auto" with an OP that keeps those claims at userinfo only (``conformIdTokenClaims``):
  one call per sign-in, and the claims arrive (this also proves the counter counts).
"""

from __future__ import annotations

import shutil

import pytest

from .harness import APPS, free_port, run_app
from .op import run_op, sign_in_at_op
from .test_sign_in import SECRET, write_secrets

pytestmark = pytest.mark.generations("st156", "st167")

CASES = {"auto": ("auto", False), "never": ("never", False), "auto-conform": ("auto", True)}


@pytest.fixture(scope="module", params=list(CASES))
def setup(request, tmp_path_factory, generation):
    mode, conform = CASES[request.param]
    tmp = tmp_path_factory.mktemp(f"userinfo-{request.param}")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "login_page", app_dir)
    port = free_port()
    rp = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OP_CONFORM", "1" if conform else "0")
        with run_op(rp, tmp) as op:
            write_secrets(app_dir, f"""
[auth]
redirect_uri = "{rp}/oauth2callback"
cookie_secret = "{SECRET}"
userinfo = "{mode}"
client_id = "{op.client_id}"
client_secret = "{op.client_secret}"
server_metadata_url = "{op.metadata_url}"
client_kwargs = {{ scope = "openid email profile groups" }}

[auth.roles]
admin = ["group:admins"]
""")
            with run_app(app_dir, "sales_portal.py", port=port, generation=generation, tmp_path=tmp) as app:
                yield request.param, app, tmp / f"op-{op.port}.log"


def userinfo_requests(op_log) -> int:
    return op_log.read_text(errors="replace").count("userinfo-request")


def test_userinfo_is_called_only_when_the_id_token_lacks_a_needed_claim(context, setup):
    case, app, op_log = setup
    before = userinfo_requests(op_log)
    page = context.new_page()
    page.goto(app.url("/auth/login?next=/"))
    sign_in_at_op(page, "alice")
    page.get_by_text("who=Alice Example provider=default email=alice@example.org roles=admin").wait_for()
    assert userinfo_requests(op_log) - before == (1 if case == "auto-conform" else 0)
