"""Microsoft Entra multi-tenant sign-in (``provider = "microsoft"``, ``tenant = "common"``) in
Chromium against the real OP playing an Entra tenant: its ``/common/v2.0`` discovery names
the ``{tenantid}`` template as issuer, its ID tokens and authorization responses carry the
tenant's own issuer and ``tid``. ``allowed_tenants`` refuses other tenants with a page that
reads well and no session.
"""

from __future__ import annotations

import shutil

import pytest
import requests

from .harness import APPS, free_port, run_app
from .op import run_op, sign_in_at_op
from .test_sign_in import SECRET, write_secrets

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
OTHER_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@pytest.fixture(scope="module")
def entra(tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("entra")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "native_login", app_dir)
    port = free_port()
    rp = f"http://127.0.0.1:{port}"
    with run_op(rp, tmp, entra_tenant=TENANT) as op:
        write_secrets(app_dir, f"""
[auth]
redirect_uri = "{rp}/oauth2callback"
cookie_secret = "{SECRET}"

[auth.work]
provider = "microsoft"
tenant = "common"
server_metadata_url = "{op.multi_tenant_metadata_url}"
client_id = "{op.client_id}"
client_secret = "{op.client_secret}"

[auth.partners]
provider = "microsoft"
tenant = "organizations"
allowed_tenants = ["{OTHER_TENANT}"]
server_metadata_url = "{op.multi_tenant_metadata_url.replace('/common/', '/organizations/')}"
client_id = "{op.client_id}"
client_secret = "{op.client_secret}"
""")
        with run_app(app_dir, port=port, generation=generation, tmp_path=tmp) as app:
            yield app, op


def test_the_discovery_names_the_template_and_the_tokens_the_users_tenant(entra):
    _, op = entra
    doc = requests.get(op.multi_tenant_metadata_url, timeout=10).json()
    assert doc["issuer"] == f"http://127.0.0.1:{op.port}/{{tenantid}}/v2.0"
    assert op.issuer.endswith(f"/{TENANT}/v2.0")


def test_a_user_of_any_tenant_signs_in_through_common(context, entra):
    app, op = entra
    page = context.new_page()
    page.goto(app.url("/auth/login?provider=work"))
    assert page.url.startswith(f"http://127.0.0.1:{op.port}/")
    sign_in_at_op(page, "alice")
    page.get_by_text("logged-in=True").wait_for()
    page.get_by_text("email=alice@example.org").wait_for()
    page.get_by_text("provider=work").wait_for()
    me = page.request.get(app.url("/auth/userinfo")).json()
    assert me["claims"]["tid"] == TENANT
    assert me["claims"]["iss"] == op.issuer  # the user's tenant, not the template


def test_a_tenant_outside_allowed_tenants_is_refused_with_a_clear_page_and_no_session(context, entra):
    app, _ = entra
    page = context.new_page()
    page.goto(app.url("/auth/login?provider=partners"))
    with page.expect_response(lambda r: "/oauth2callback" in r.url) as answer:
        sign_in_at_op(page, "alice")
    assert answer.value.status == 400
    text = page.locator("body").inner_text()
    assert "The sign-in response came from another identity provider." in text
    assert "Traceback" not in text and TENANT not in text
    assert page.request.get(app.url("/auth/userinfo")).status == 401
