"""Firebase on our pages: the login page's sign-in block (Firebase's JS SDK signs the user
in, our endpoint turns its ID token into our session) and the sign-out page that also
signs the browser out of Firebase.

The SDK's ES modules ``firebase-app.js`` and ``firebase-auth.js`` of one pinned version
load from ``sdk_url``. Google's ``firebase-auth.js`` imports ``firebase-app.js`` from
Google's CDN by absolute URL; when ``sdk_url`` is another copy, an import map sends that
import to the copy too. Settings reach the script as JSON in a data block, never spliced
into code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from ..core.firebase.config import DEFAULT_SDK_URL, FirebaseConfig

#: Button labels of the federated sign-in methods.
METHOD_LABELS = {"google.com": "Google", "github.com": "GitHub", "microsoft.com": "Microsoft",
                 "apple.com": "Apple", "facebook.com": "Facebook", "twitter.com": "X (Twitter)",
                 "yahoo.com": "Yahoo"}

_SIGN_IN_SCRIPT = """
const settings = JSON.parse(document.getElementById("stauth-firebase").textContent);
const sdk = settings.sdk;
// one answer whether the email is unknown or the password wrong (no account enumeration)
const WRONG = ["auth/invalid-credential", "auth/wrong-password", "auth/user-not-found", "auth/invalid-email"];
const {initializeApp} = await import(sdk + "firebase-app.js");
const fa = await import(sdk + "firebase-auth.js");
const classes = {"google.com": fa.GoogleAuthProvider, "github.com": fa.GithubAuthProvider,
                 "facebook.com": fa.FacebookAuthProvider, "twitter.com": fa.TwitterAuthProvider};
for (const project of settings.projects) {
  const box = document.getElementById("firebase-" + project.name);
  const error = box.querySelector(".error");
  const say = (message) => { error.textContent = message; error.hidden = false; };
  const auth = fa.getAuth(initializeApp(project.config, "stauth-" + project.name));
  if (project.emulator) fa.connectAuthEmulator(auth, "http://" + project.emulator, {disableWarnings: true});
  const finish = async (credential) => {
    const idToken = await credential.user.getIdToken();
    const answer = await fetch(project.session, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({idToken, next: settings.next})});
    const body = await answer.json().catch(() => ({}));
    if (answer.ok && typeof body.next === "string") { location.assign(body.next); return; }
    say(body.error || "Sign-in failed. Try again.");
  };
  const attempt = (work) => async (event) => {
    event.preventDefault();
    error.hidden = true;
    try { await finish(await work()); } catch (failure) {
      say(failure && WRONG.includes(failure.code) ? "Wrong email or password."
        : "Sign-in failed" + (failure && failure.code ? " (" + failure.code + ")" : "") + ". Try again.");
    }
  };
  const form = box.querySelector("form");
  if (form) form.addEventListener("submit", attempt(() => fa.signInWithEmailAndPassword(
    auth, form.elements.email.value, form.elements.password.value)));
  for (const button of box.querySelectorAll("button[data-method]")) {
    const method = button.dataset.method;
    button.addEventListener("click", attempt(() => fa.signInWithPopup(
      auth, classes[method] ? new classes[method]() : new fa.OAuthProvider(method))));
  }
  box.hidden = false;
}
"""

_SIGN_OUT_SCRIPT = """
const settings = JSON.parse(document.getElementById("stauth-firebase").textContent);
try {
  const {initializeApp} = await import(settings.sdk + "firebase-app.js");
  const fa = await import(settings.sdk + "firebase-auth.js");
  for (const project of settings.projects) {
    const auth = fa.getAuth(initializeApp(project.config, "stauth-" + project.name));
    if (project.emulator) fa.connectAuthEmulator(auth, "http://" + project.emulator, {disableWarnings: true});
    await auth.authStateReady();
    await fa.signOut(auth);
  }
} finally {
  location.replace(settings.next);
}
"""


def _data_block(data: object) -> str:
    """JSON inside ``<script type=application/json>``: ``<`` escaped, so no ``</script>``."""
    text = json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type=application/json id=stauth-firebase>{text}</script>'


def _import_map(sdk_url: str) -> str:
    """Send ``firebase-auth.js``'s absolute import of Google's ``firebase-app.js`` to the copy."""
    if sdk_url == DEFAULT_SDK_URL:
        return ""
    mapping = {"imports": {DEFAULT_SDK_URL + "firebase-app.js": sdk_url + "firebase-app.js"}}
    return f"<script type=importmap>{json.dumps(mapping)}</script>"


def _settings(projects: Sequence[FirebaseConfig], session_path: str, next_path: str) -> dict[str, object]:
    return {"sdk": projects[0].sdk_url, "next": next_path, "projects": [
        {"name": p.name, "config": p.browser_config(), "emulator": p.emulator_host,
         "session": session_path + ("" if len(projects) == 1 else f"?provider={p.name}")} for p in projects]}


def firebase_block(projects: Sequence[FirebaseConfig], session_path: str, next_path: str) -> str:
    """The login page's Firebase part: a form for ``password``, a button per federated
    method; hidden until the SDK has loaded (without JavaScript it cannot work)."""
    if not projects:
        return ""
    sections = []
    for project in projects:
        form = ""
        if "password" in project.sign_in_methods:
            form = (f'<form class=firebase-password><label for=fb-email-{escape(project.name)}>Email</label>'
                    f'<input id=fb-email-{escape(project.name)} name=email type=email autocomplete=email required>'
                    f'<label for=fb-password-{escape(project.name)}>Password</label>'
                    f'<input id=fb-password-{escape(project.name)} name=password type=password '
                    f'autocomplete=current-password required>'
                    f'<button type=submit class=primary>Sign in with {escape(project.display_name)}</button></form>')
        buttons = "".join(f'<button type=button data-method="{escape(m)}">Continue with '
                          f'{escape(METHOD_LABELS.get(m, m))}</button>'
                          for m in project.sign_in_methods if m != "password")
        sections.append(f'<section id="firebase-{escape(project.name)}" class=firebase hidden>'
                        f'<p class=error role=alert hidden></p>{form}{buttons}</section>')
    settings = _settings(projects, session_path, next_path)
    return (_import_map(projects[0].sdk_url) + "".join(sections) + _data_block(settings)
            + f"<script type=module>{_SIGN_IN_SCRIPT}</script>")


def firebase_sign_out_page(projects: Sequence[FirebaseConfig], target: str) -> str:
    """After our session ended: sign the browser out of Firebase too, then go to ``target``
    (also when the SDK cannot load: a refresh after a few seconds, and a link)."""
    from .pages import _page

    settings = _settings(projects, "", target)
    body = (f'<meta http-equiv=refresh content="5;url={escape(target)}">'
            f"<h1>Signing out…</h1><p><a href=\"{escape(target)}\">Continue</a></p>"
            + _import_map(projects[0].sdk_url) + _data_block(settings)
            + f"<script type=module>{_SIGN_OUT_SCRIPT}</script>")
    return _page("Signing out", body)
