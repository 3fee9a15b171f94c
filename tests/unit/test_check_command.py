"""``streamlit-auth check``'s pieces: redaction and the redirect_uri rule (no network)."""

from __future__ import annotations

from stauth_server.cli.check import Report, check_redirect_uri, effective_lines, redacted


def test_secrets_are_redacted_by_key_name_and_url_passwords_cut():
    lines = list(effective_lines({
        "cookie_secret": "x" * 40, "cookie_secrets": ["a" * 32, "b" * 33], "expose_tokens": ["id"],
        "corp": {"client_id": "abc", "client_secret": "hunter2-hunter2"},
        "ldap": {"bind_password": "adminpw", "server_uri": "ldap://127.0.0.1"},
        "store": {"url": "redis://user:pw-in-url@redis.internal:6379/0"},
    }))
    text = "\n".join(lines)
    for secret in ("x" * 40, "a" * 32, "hunter2", "adminpw", "pw-in-url"):
        assert secret not in text
    assert '[auth] cookie_secret = "<redacted, 40 characters>"' in lines
    assert '[auth] expose_tokens = ["id"]' in lines
    assert '[auth.corp] client_id = "abc"' in lines
    assert '[auth.store] url = "redis://user:<redacted>@redis.internal:6379/0"' in lines
    assert redacted("url", "redis://redis.internal:6379/0") == "redis://redis.internal:6379/0"


def test_redirect_uri_must_match_the_base_path_and_use_https_off_loopback():
    def problems(uri: str, base: str) -> list[str]:
        report = Report()
        check_redirect_uri(uri, base, report)
        return report.problems

    assert problems("https://app.example.org/reports/oauth2callback", "reports") == []
    assert problems("http://localhost:8501/oauth2callback", "") == []
    assert "expected '/reports/oauth2callback'" in problems("https://app.example.org/oauth2callback", "/reports/")[0]
    assert "plain http" in problems("http://app.example.org/oauth2callback", "")[0]


def test_firebase_keys_and_emulator_problems_are_one_line_each():
    from stauth_server.cli.check import check_firebase
    from stauth_server.core.firebase.config import parse_firebase_provider
    from stauth_server.core.oidc.errors import ProviderUnavailable

    class Http:
        def __init__(self, keys, emulator_up):
            self.keys, self.emulator_up = keys, emulator_up

        def get_json_and_max_age(self, url, *, what):
            if self.keys is None:
                raise ProviderUnavailable(f"{what}: GET {url} failed: ConnectionError")
            return self.keys, 3600

        def get_json(self, url, *, what):
            if not self.emulator_up:
                raise ProviderUnavailable(f"{what}: GET {url} failed: ConnectionError")
            return {}

    def run(keys, emulator_up=True, **extra):
        firebase = parse_firebase_provider("fb", {"provider": "firebase", "project_id": "p", "api_key": "k", **extra},
                                           "[auth.fb]")
        report = Report()
        check_firebase("fb", firebase, report, Http(keys, emulator_up))
        return report

    assert run({"k1": "-----BEGIN CERTIFICATE-----"}).problems == []
    assert "keys_url" in run(None).problems[0]
    assert "no keys" in run({}).problems[0]
    emulated = run({}, emulator_up=False, emulator_host="127.0.0.1:9099")
    assert len(emulated.problems) == 1 and "emulator_host 127.0.0.1:9099" in emulated.problems[0]


def test_saml_metadata_is_checked_and_a_broken_one_is_one_problem(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent / "saml"))
    from crafted_idp import IDP_SSO, CraftedIdp

    from stauth_server.cli.check import check_saml
    from stauth_server.core.oidc.transport import ProviderHTTP
    from stauth_server.core.saml.config import parse_saml_provider

    (tmp_path / "idp.xml").write_text(CraftedIdp.create(tmp_path).metadata_xml)
    (tmp_path / "broken.xml").write_text("<EntityDescriptor/>")

    def run(metadata: str) -> Report:
        provider = parse_saml_provider("corp", {"protocol": "saml", "idp_metadata_file": metadata},
                                       redirect_uri="https://app.example.org/oauth2callback", app_dir=tmp_path)
        report = Report()
        check_saml("corp", provider, report, ProviderHTTP())
        return report

    good = run("idp.xml")
    assert good.problems == [] and f"sign-in at {IDP_SSO}" in good.passed[0]
    assert "ACS https://app.example.org/auth/saml/corp/acs" in good.passed[0]
    broken = run("broken.xml")
    assert len(broken.problems) == 1 and broken.problems[0].startswith("[auth.corp] idp_metadata_file")
