#!/usr/bin/env python3
"""Benchmark: a signed-in page load under streamlit-auth vs plain ``streamlit run``.

What is compared
    The same one-line app (scripts/bench_apps/user.py: ``st.write`` of whether ``st.user``
    is logged in), loaded in a real Chromium:

    * ours:  ``streamlit-auth run`` with sign-in configured (a local OpenID Provider,
      tests/op/op.mjs) and a browser that has signed in once (through the OP's login and
      consent forms), so every load's websocket handshake carries our session cookie:
      the server opens it, checks the session record and gives the session its st.user;
      the page must show ``logged-in=True``;
    * plain: ``streamlit run`` with no ``[auth]`` at all; the page shows ``logged-in=False``.

    The measure is "websocket connect to first script run finished": from the moment the
    page creates its ``/_stcore/stream`` websocket to the moment the app's text is in the
    DOM. Both instants are taken in the page with ``performance.now()``: an init script
    wraps ``window.WebSocket`` (records the creation, and the ``open`` event) and a
    MutationObserver records when the text first appears. Target: ours/plain <= 1.05.
    Also reported: websocket created -> open (the handshake, where our cookie is read)
    and navigation start -> text.

How
    * Debian's Chromium (/usr/bin/chromium) through Playwright, headless, with the
      launch flags of the end-to-end tests; one browser, one context per side (ours
      signed in, plain with no cookies), each reused for all its loads (warm HTTP cache
      on both sides); a fresh page for every load, closed afterwards;
    * the OP's sign-in pages import web fonts from the internet: while signing in, every
      request to another host than 127.0.0.1 is aborted (route removed before measuring);
      during the measured loads any request leaving 127.0.0.1 is reported;
    * two untimed warm-up loads per side, then ``-n`` loads per side alternating
      ours/plain (ABBA order);
    * servers, OP and browser run on free 127.0.0.1 ports, started by this script and
      stopped at the end (process-group kill);
    * CPU used by other processes (browser, servers and OP excluded) is measured during
      each load; above ``--disturbed`` % of a CPU the load is flagged, re-run once, and
      left out of the medians when each side keeps enough undisturbed loads.

The last line printed is ``pageload ratio ours/plain=R (median Xms vs Yms, ...)``.

Usage: ``python3 scripts/bench_pageload.py [-n 20] [--quick]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _benchlib import (
    BENCH_APPS,
    COMMON_FLAGS,
    HOST,
    REPO_DIR,
    OthersMeter,
    console_script,
    exit_on_sigterm,
    free_port,
    median,
    spawn,
    stop_group,
    tail,
    wait_healthy,
    wait_quiet,
)

APP = BENCH_APPS / "user.py"
OP_DIR = REPO_DIR / "tests" / "op"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SECRET = "a-bench-cookie-secret-of-enough-length-0123456789"
CLIENT_ID = "streamlit-test"
CLIENT_SECRET = "streamlit-test-secret"
MARK = "logged-in="
KINDS = ("ours", "plain")
EXPECTED = {"ours": "logged-in=True", "plain": "logged-in=False"}

#: Runs before any page script: times the app's websocket and the app's text.
INIT_SCRIPT = """
(() => {
  const MARK = %r;
  const bench = window.__bench = {wsCreated: null, wsOpen: null, text: null, textValue: null};
  const NativeWebSocket = window.WebSocket;
  class BenchWebSocket extends NativeWebSocket {
    constructor(url, protocols) {
      const created = performance.now();
      if (protocols === undefined) { super(url); } else { super(url, protocols); }
      if (String(url).includes("/_stcore/stream") && bench.wsCreated === null) {
        bench.wsCreated = created;
        this.addEventListener("open", () => { if (bench.wsOpen === null) bench.wsOpen = performance.now(); });
      }
    }
  }
  window.WebSocket = BenchWebSocket;
  const observer = new MutationObserver(() => {
    if (bench.text !== null || !document.body) return;
    const text = document.body.textContent;
    const at = text.indexOf(MARK);
    if (at >= 0) {
      bench.text = performance.now();
      bench.textValue = text.slice(at, at + MARK.length + 5).replace(/[^A-Za-z=-].*$/, "");
      observer.disconnect();
    }
  });
  observer.observe(document, {childList: true, subtree: true, characterData: true});
})();
""" % MARK


@dataclass
class Load:
    kind: str
    ws_to_text: float  # ms
    ws_to_open: float
    nav_to_text: float
    others: float
    text: str

    def disturbed(self, threshold: float) -> bool:
        return self.others > threshold


def write_app(app_dir: Path, secrets: str | None) -> None:
    app_dir.mkdir(parents=True)
    shutil.copy(APP, app_dir / "app.py")
    if secrets:
        (app_dir / ".streamlit").mkdir()
        (app_dir / ".streamlit" / "secrets.toml").write_text(secrets)


def app_command(kind: str, port: int) -> list[str]:
    flags = [*COMMON_FLAGS, "--server.port", str(port), "--server.fileWatcherType", "none"]
    name = "streamlit-auth" if kind == "ours" else "streamlit"
    return [console_script(name), "run", "app.py", *flags]


def wait_op(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 30) -> None:
    import requests

    deadline = time.perf_counter() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the OP exited:\n{tail(log)}")
        try:
            if requests.get(f"http://{HOST}:{port}/.well-known/openid-configuration", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        if time.perf_counter() > deadline:
            raise RuntimeError("the OP did not start")
        time.sleep(0.05)


def only_loopback(route: Any) -> None:
    if urlsplit(route.request.url).hostname == HOST:
        route.continue_()
    else:
        route.abort()


def sign_in(context: Any, app_url: str) -> None:
    """Sign in once through the OP's development forms (login, then consent)."""
    context.route("**/*", only_loopback)
    page = context.new_page()
    try:
        page.goto(f"{app_url}/auth/login")
        page.wait_for_url("**/interaction/**")
        for _ in range(4):
            if "/interaction/" not in page.url:
                break
            with page.expect_navigation():
                if page.locator("input[name=login]").count():
                    page.fill("input[name=login]", "alice")
                    page.fill("input[name=password]", "x")
                page.click("button[type=submit]")
        page.get_by_text(EXPECTED["ours"]).wait_for()
        if not any(c["name"].startswith("stauth_session") for c in context.cookies()):
            raise RuntimeError("signed in, but no stauth_session cookie in the browser")
    finally:
        page.close()
        context.unroute("**/*", only_loopback)


def load_once(context: Any, url: str, kind: str, meter: OthersMeter | None, outside: list[str]) -> Load:
    page = context.new_page()
    page.on("request", lambda request: outside.append(request.url)
            if urlsplit(request.url).hostname != HOST else None)
    try:
        if meter:
            meter.start()
        page.goto(url, wait_until="commit")
        page.wait_for_function("window.__bench && window.__bench.text !== null", timeout=30_000, polling=50)
        others = meter.stop() if meter else 0.0
        bench = page.evaluate("window.__bench")
    finally:
        page.close()
    if bench["wsCreated"] is None or bench["wsOpen"] is None:
        raise RuntimeError(f"{kind}: the app's websocket was not seen: {bench}")
    if bench["textValue"] != EXPECTED[kind]:
        raise RuntimeError(f"{kind}: the page says {bench['textValue']!r}, expected {EXPECTED[kind]!r}")
    return Load(kind, bench["text"] - bench["wsCreated"], bench["wsOpen"] - bench["wsCreated"],
                bench["text"], others, bench["textValue"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--loads", type=int, default=None, help="timed loads per side (20; quick: 6)")
    parser.add_argument("--quick", action="store_true", help="6 loads per side")
    parser.add_argument("--disturbed", type=float, default=35.0, metavar="PCT",
                        help="a load is disturbed when other processes used more than PCT%% of a CPU (35)")
    parser.add_argument("--budget", type=float, default=150.0, metavar="S",
                        help="time budget for waiting out other processes and re-runs (150 s)")
    args = parser.parse_args()
    loads = args.loads or (6 if args.quick else 20)
    script_start = time.perf_counter()
    exit_on_sigterm()

    if not os.path.exists(CHROMIUM):
        print(f"error: {CHROMIUM} is missing (apt-get install -y chromium)", file=sys.stderr)
        return 2
    node = shutil.which("node")
    if node is None or not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
        print("error: the OP needs Node and `npm ci` in tests/op (scripts/setup-test-env.sh)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")
    log_dir = Path(tempfile.mkdtemp(prefix="bench_pageload_"))
    ports = {"ours": free_port(), "plain": free_port()}
    op_port = free_port()
    urls = {kind: f"http://{HOST}:{port}" for kind, port in ports.items()}
    write_app(log_dir / "ours", f"""\
[auth]
redirect_uri = "{urls['ours']}/oauth2callback"
cookie_secret = "{SECRET}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
server_metadata_url = "http://{HOST}:{op_port}/.well-known/openid-configuration"
""")
    write_app(log_dir / "plain", None)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    failed = True
    results: dict[str, list[Load]] = {kind: [] for kind in KINDS}
    outside: list[str] = []
    try:
        procs["op"] = spawn([node, "op.mjs"], log_dir / "op.log", cwd=OP_DIR,
                            env={"OP_PORT": str(op_port), "RP_BASE": urls["ours"],
                                 "OP_CLIENT_ID": CLIENT_ID, "OP_CLIENT_SECRET": CLIENT_SECRET})
        for kind in KINDS:
            procs[kind] = spawn(app_command(kind, ports[kind]), log_dir / f"{kind}.log", cwd=log_dir / kind)
        wait_op(procs["op"], op_port, log_dir / "op.log")
        for kind in KINDS:
            wait_healthy(procs[kind], ports[kind], timeout=90)
            print(f"{kind:<5}: {' '.join(app_command(kind, ports[kind]))}  (cwd: its app folder"
                  + (f"; [auth] in .streamlit/secrets.toml, OP node op.mjs on port {op_port})" if kind == "ours" else
                     "; no secrets)"))

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            contexts = {kind: browser.new_context() for kind in KINDS}
            for context in contexts.values():
                context.set_default_timeout(30_000)
                context.add_init_script(INIT_SCRIPT)
            started = time.perf_counter()
            sign_in(contexts["ours"], urls["ours"])
            print(f"signed in once through the OP's forms in {time.perf_counter() - started:.1f}s "
                  f"(browser: {browser.version})")
            meter = OthersMeter([proc.pid for proc in procs.values()])
            for round_ in range(2):
                for kind in KINDS:
                    load = load_once(contexts[kind], urls[kind] + "/", kind, None, outside)
                    print(f"  warm-up {kind:<5} websocket->text {load.ws_to_text:6.1f} ms "
                          f"(page says {load.text}; not counted)")

            print(f"measuring: {loads} loads per side, alternating (ABBA); ms from the websocket's creation; "
                  f"'others' = CPU used by other processes during the load (disturbed above {args.disturbed:g}%)")
            for pair in range(loads):
                order = KINDS if pair % 2 == 0 else KINDS[::-1]
                slack = args.budget - (time.perf_counter() - script_start) - (loads - pair) * 1.5
                if slack > 1:
                    waited, level = wait_quiet(args.disturbed / 2, min(3.0, slack / 3))
                    if waited > 1:
                        print(f"  (waited {waited:.1f}s for other processes to calm down: {level:.0f}%)")
                for kind in order:
                    load = load_once(contexts[kind], urls[kind] + "/", kind, meter, outside)
                    results[kind].append(load)
                    flag = "  DISTURBED" if load.disturbed(args.disturbed) else ""
                    print(f"  {pair + 1:>2} {kind:<5} websocket->text {load.ws_to_text:6.1f}  ws open "
                          f"{load.ws_to_open:5.1f}  navigation->text {load.nav_to_text:6.1f}  "
                          f"others {load.others:3.0f}%{flag}")
                    if flag and time.perf_counter() - script_start < args.budget:
                        again = load_once(contexts[kind], urls[kind] + "/", kind, meter, outside)
                        results[kind].append(again)
                        print(f"     again  websocket->text {again.ws_to_text:6.1f}  others {again.others:3.0f}%"
                              + ("  DISTURBED" if again.disturbed(args.disturbed) else ""))
            browser.close()
        for kind in KINDS:
            if procs[kind].poll() is not None:
                raise RuntimeError(f"the {kind} server exited during the benchmark")
        failed = False
    except BaseException:
        for name in sorted(p.name for p in log_dir.glob("*.log")):
            print(f"--- {name} ---\n{tail(log_dir / name)}", file=sys.stderr)
        raise
    finally:
        for proc in procs.values():
            stop_group(proc)
        if not failed:
            shutil.rmtree(log_dir, ignore_errors=True)

    minimum = max(3, loads // 2)
    kept: dict[str, list[Load]] = {}
    all_clean = True
    for kind in KINDS:
        clean = [load for load in results[kind] if not load.disturbed(args.disturbed)]
        if len(clean) >= minimum:
            kept[kind] = clean
        else:
            kept[kind], all_clean = results[kind], False
    print()
    print(f"{'side':<6} {'ws->text':>9} {'min':>6} {'max':>6} {'ws->open':>9} {'nav->text':>10} {'kept':>5}"
          "  (median ms)")
    for kind in KINDS:
        rows = kept[kind]
        values = [r.ws_to_text for r in rows]
        print(f"{kind:<6} {median(values):9.1f} {min(values):6.1f} {max(values):6.1f} "
              f"{median([r.ws_to_open for r in rows]):9.1f} {median([r.nav_to_text for r in rows]):10.1f} "
              f"{len(rows):>5}")
    disturbed = sum(load.disturbed(args.disturbed) for rows in results.values() for load in rows)
    if disturbed:
        print(f"note: {disturbed} load(s) were disturbed by other processes"
              + ("" if all_clean else "; too few clean ones on a side, so all were used (NOISY)"))
    if outside:
        print(f"WARNING: {len(outside)} request(s) left 127.0.0.1 during the loads, e.g. {outside[0]}")
    else:
        print("no request left 127.0.0.1 during the measured loads")
    ours, plain = (median([r.ws_to_text for r in kept[kind]]) for kind in KINDS)
    ratio = ours / plain
    nav_ratio = median([r.nav_to_text for r in kept["ours"]]) / median([r.nav_to_text for r in kept["plain"]])
    print(f"navigation->text ratio ours/plain={nav_ratio:.2f}")
    print(f"target ours/plain <= 1.05: {'ok' if ratio <= 1.05 else 'ABOVE 1.05'}; "
          f"total time {time.perf_counter() - script_start:.0f}s")
    print(f"pageload ratio ours/plain={ratio:.2f} (median {ours:.1f}ms vs {plain:.1f}ms, websocket created -> "
          f"app text, n={loads})"
          + ("" if all_clean else " (NOISY: other processes disturbed these loads, re-run on a quiet machine)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
