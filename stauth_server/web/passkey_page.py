"""Passkeys on our pages: the login page's "Sign in with a passkey" button and the
account page's passkeys section (the list, a remove button each, the form that adds one,
which asks for the current password).

A small script runs the WebAuthn ceremonies: it posts JSON to ``/auth/passkeys/...`` for
the options, calls ``navigator.credentials.create`` or ``get``, and posts the answer back
(binary fields as base64url). Settings reach it as JSON in a data block, never spliced
into code. Our pages send no ``script-src`` policy, so an inline module script runs. The
button and the form stay hidden where the browser has no WebAuthn.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from html import escape

from ..core.accounts.passkeys import MAX_NAME, RelyingParty
from ..core.sources.local import Passkey

#: Where the passkey endpoints live (under the app's base path).
PASSKEYS_PATH = "/auth/passkeys"

_SCRIPT = """
const settings = JSON.parse(document.getElementById("stauth-passkeys").textContent);
const box = document.getElementById("passkeys");
const error = box.querySelector(".error");
const say = (message) => { error.textContent = message; error.hidden = false; };
const bytes = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")
  + "===".slice((text.length + 3) % 4)), (c) => c.charCodeAt(0)).buffer;
const text = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
  .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
const xsrf = () => (document.querySelector('input[name="_xsrf"]') || {}).value || "";
const post = async (url, body) => {
  const answer = await fetch(url, {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-Xsrftoken": xsrf()}, body: JSON.stringify(body)});
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(data.error || "The server refused the passkey (" + answer.status + ").");
  return data;
};
const asJSON = (credential) => {
  const r = credential.response;
  const out = {id: credential.id, rawId: text(credential.rawId), type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults(), response: {clientDataJSON: text(r.clientDataJSON)}};
  if (credential.authenticatorAttachment) out.authenticatorAttachment = credential.authenticatorAttachment;
  if (r.attestationObject) {
    out.response.attestationObject = text(r.attestationObject);
    if (r.getTransports) out.response.transports = r.getTransports();
  } else {
    out.response.authenticatorData = text(r.authenticatorData);
    out.response.signature = text(r.signature);
    if (r.userHandle) out.response.userHandle = text(r.userHandle);
  }
  return out;
};
const run = async (work) => {
  error.hidden = true;
  try { await work(); } catch (failure) {
    const name = failure && failure.name;
    say(name === "NotAllowedError" ? "The passkey request was cancelled or timed out."
      : name === "InvalidStateError" ? "This device already holds a passkey for your account."
      : name === "SecurityError" ? "Passkeys work only at " + settings.origin + "."
      : (failure && failure.message) || "Something went wrong. Try again.");
  }
};
if (window.PublicKeyCredential) {
  if (settings.mode === "sign_in") {
    box.querySelector("button").addEventListener("click", () => run(async () => {
      const {publicKey, state} = await post(settings.options, {});
      publicKey.challenge = bytes(publicKey.challenge);
      publicKey.allowCredentials = (publicKey.allowCredentials || []).map((c) => ({...c, id: bytes(c.id)}));
      const credential = await navigator.credentials.get({publicKey});
      const done = await post(settings.verify, {state, credential: asJSON(credential), next: settings.next});
      location.assign(done.next);
    }));
    box.hidden = false;
  } else {
    const form = box.querySelector("form.passkey-add");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      run(async () => {
        const password = form.elements.password;
        const asked = {name: form.elements.name.value, password: password.value};
        const {publicKey, state} = await post(settings.options, asked).finally(() => { password.value = ""; });
        publicKey.challenge = bytes(publicKey.challenge);
        publicKey.user.id = bytes(publicKey.user.id);
        publicKey.excludeCredentials = (publicKey.excludeCredentials || []).map((c) => ({...c, id: bytes(c.id)}));
        const credential = await navigator.credentials.create({publicKey});
        const done = await post(settings.verify, {state, credential: asJSON(credential)});
        location.assign(done.next);
      });
    });
    form.hidden = false;
  }
}
"""


def _data_block(data: object) -> str:
    """JSON inside ``<script type=application/json>``: ``<``, ``>``, ``&`` escaped, so no ``</script>``."""
    text = json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"<script type=application/json id=stauth-passkeys>{text}</script>"


def _script(settings: dict[str, object]) -> str:
    return _data_block(settings) + f"<script type=module>{_SCRIPT}</script>"


def passkey_sign_in(base: str, next_path: str, redirect_uri: str) -> str:
    """The login page's button: ``base`` is ``/auth/passkeys`` as served; passkeys work on
    the origin of ``redirect_uri``. Hidden until the script finds WebAuthn in the browser."""
    settings = {"mode": "sign_in", "options": f"{base}/sign-in/options", "verify": f"{base}/sign-in",
                "next": next_path, "origin": RelyingParty.from_redirect_uri(redirect_uri).origin}
    return ('<section id=passkeys class=passkeys hidden><p class=error role=alert hidden></p>'
            '<button type=button>Sign in with a passkey</button></section>' + _script(settings))


_STYLE = ("<style>.passkey-list{list-style:none;padding:0}.passkey-list li{display:flex;align-items:center;"
          "gap:.5rem;margin:.25rem 0}.passkey-list li span{flex:1;overflow-wrap:anywhere}.passkey-list form{margin:0}"
          ".passkey-list button{width:auto;margin:0;padding:.3rem .7rem}</style>")


def _created(passkey: Passkey) -> str:
    return dt.datetime.fromtimestamp(passkey.created, dt.timezone.utc).strftime("%Y-%m-%d")


def passkeys_section(passkeys: Sequence[Passkey], *, base: str, xsrf_form_html: str, origin: str | None,
                     served_at: str, notice: str | None = None) -> str:
    """The account page's passkeys: each with its name, the day it was added and a remove
    button (a form post); the form that adds one. ``origin``: where passkeys work (None:
    not set up, ``[auth] redirect_uri`` missing); ``served_at``: this page's origin."""
    items = "".join(
        f"<li><span>{escape(p.name)}</span> <small>added {_created(p)}</small>"
        f'<form method=post action="{escape(base)}/remove" class=passkey-remove>{xsrf_form_html}'
        f'<input type=hidden name=passkey value="{escape(p.credential_id)}">'
        f'<button type=submit aria-label="Remove passkey {escape(p.name)}">Remove</button></form></li>'
        for p in passkeys)
    listing = f"<ul class=passkey-list>{items}</ul>" if passkeys else "<p>No passkeys yet.</p>"
    status = f"<p role=status class=notice>{escape(notice)}</p>" if notice else ""
    intro = "<p>Sign in with your device's screen lock or a security key instead of a password.</p>"
    if origin is None:
        return (f"<section id=passkeys>{_STYLE}<h2>Passkeys</h2>{status}{listing}"
                "<p>Passkeys are not available: this app does not set <code>[auth] redirect_uri</code>.</p></section>")
    elsewhere = "" if served_at == origin else f"<p>Passkeys work only at {escape(origin)}.</p>"
    form = ("<form class=passkey-add hidden><label for=passkey-name>Name of the new passkey</label>"
            f"<input id=passkey-name name=name required maxlength={MAX_NAME} placeholder=\"e.g. work laptop\">"
            "<label for=passkey-password>Current password</label>"
            "<input id=passkey-password name=password type=password autocomplete=current-password required>"
            "<button type=submit class=primary>Add a passkey</button></form>")
    settings = {"mode": "register", "options": f"{base}/register/options", "verify": f"{base}/register",
                "origin": origin}
    return (f"<section id=passkeys>{_STYLE}<h2>Passkeys</h2>{intro}{status}{listing}{elsewhere}"
            f"<p class=error role=alert hidden></p>{form}{_script(settings)}</section>")


__all__ = ["PASSKEYS_PATH", "passkey_sign_in", "passkeys_section"]
